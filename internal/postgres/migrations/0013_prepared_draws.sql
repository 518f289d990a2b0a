-- The draw's list is read ahead of the draw moment and used at the moment
-- if the pool has not changed since (app's preparedDraw; issue 15's draw in
-- ≤ 5 ms at 100,000 members). "Changed" is the sum of these counters: every
-- member added, removed, renamed or re-keyed bumps its connection's shard in
-- the same transaction, and a shard's count only grows, so equal sums mean
-- the same list.
ALTER TABLE pool_stats ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION pool_stats_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pool_stats
        SET members = members + CASE TG_OP WHEN 'INSERT' THEN 1 WHEN 'DELETE' THEN -1 ELSE 0 END,
            changes = changes + 1
        WHERE shard = pg_backend_pid() % 64;
    RETURN NULL;
END
$$;

CREATE TRIGGER pool_stats_rename AFTER UPDATE OF character_name, order_key ON pool
    FOR EACH ROW
    WHEN (OLD.character_name IS DISTINCT FROM NEW.character_name OR OLD.order_key IS DISTINCT FROM NEW.order_key)
    EXECUTE FUNCTION pool_stats_count();

-- The list a draw is about to use, stored ahead of the draw moment
-- (StageDrawList), so that the draw's own transaction writes a reference
-- instead of megabytes. A draw_proofs row without a list_gzip of its own
-- finds its list here by its hash; draws of an unchanged pool share one.
-- The list is already compressed: PostgreSQL must not try again.
CREATE TABLE draw_lists (
    list_hash TEXT PRIMARY KEY,
    list_gzip BYTEA NOT NULL,
    staged_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE draw_lists ALTER COLUMN list_gzip SET STORAGE EXTERNAL;
CREATE INDEX draw_proofs_list_hash ON draw_proofs (list_hash);
