-- The draw's list is read ahead of the draw moment and used at the moment
-- if the pool has not changed since (app's preparedDraw; issue 15's draw in
-- ≤ 5 ms at 100,000 members). "Changed" is the sum of these counters: every
-- member added, removed, renamed or re-keyed bumps its connection's shard in
-- the same transaction, and a shard's count only grows, so equal sums mean
-- the same list.
ALTER TABLE pool_stats ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;

--
-- Members added and removed are now counted once per statement, from its
-- transition table, rather than by a PL/pgSQL call and an UPDATE per row:
-- enrollments arrive in groups of several rows a statement (the group
-- commit), and the row triggers were a tenth of the database's work per
-- enrollment. A rename, rarer, is counted per row.
DROP TRIGGER pool_stats_count ON pool;
CREATE FUNCTION pool_stats_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint := (SELECT COUNT(*) FROM added);
BEGIN
    IF n > 0 THEN
        UPDATE pool_stats SET members = members + n, changes = changes + n
            WHERE shard = pg_backend_pid() % 64;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER pool_stats_added AFTER INSERT ON pool
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION pool_stats_added();
CREATE FUNCTION pool_stats_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint := (SELECT COUNT(*) FROM removed);
BEGIN
    IF n > 0 THEN
        UPDATE pool_stats SET members = members - n, changes = changes + n
            WHERE shard = pg_backend_pid() % 64;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER pool_stats_removed AFTER DELETE ON pool
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION pool_stats_removed();
DROP FUNCTION pool_stats_count();
CREATE FUNCTION pool_stats_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pool_stats SET changes = changes + 1 WHERE shard = pg_backend_pid() % 64;
    RETURN NULL;
END
$$;

CREATE TRIGGER pool_stats_rename AFTER UPDATE OF character_name, order_key ON pool
    FOR EACH ROW
    WHEN (OLD.character_name IS DISTINCT FROM NEW.character_name OR OLD.order_key IS DISTINCT FROM NEW.order_key)
    EXECUTE FUNCTION pool_stats_renamed();

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

-- The store always sends the order key; the trigger is for other writers.
-- A WHEN clause spares the enrollments a PL/pgSQL call per row.
DROP TRIGGER pool_order_key_fill ON pool;
CREATE TRIGGER pool_order_key_fill BEFORE INSERT ON pool
    FOR EACH ROW WHEN (NEW.order_key IS NULL) EXECUTE FUNCTION pool_order_key_fill();

-- The ban check likewise, once per statement over the rows it wrote.
DROP TRIGGER pool_not_banned ON pool;
DROP FUNCTION mgm_pool_not_banned();
CREATE FUNCTION mgm_pool_not_banned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM written w JOIN bans b ON b.twitch_user_id = w.twitch_user_id) THEN
        RAISE EXCEPTION 'pool_not_banned: the viewer is banned'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pool_not_banned';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER pool_not_banned AFTER INSERT ON pool
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION mgm_pool_not_banned();
CREATE TRIGGER pool_not_banned_update AFTER UPDATE ON pool
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION mgm_pool_not_banned();
