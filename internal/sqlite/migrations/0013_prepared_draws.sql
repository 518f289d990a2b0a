-- The draw's list is read ahead of the draw moment and used at the moment
-- if the pool has not changed since (app's preparedDraw; issue 15's draw in
-- ≤ 5 ms at 100,000 members). "Changed" is this counter: every member added,
-- removed, renamed or re-keyed bumps it, in the same transaction, so equal
-- counts mean the same list.
ALTER TABLE pool_stats ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER pool_stats_insert;
CREATE TRIGGER pool_stats_insert AFTER INSERT ON pool
BEGIN
    UPDATE pool_stats SET members = members + 1, changes = changes + 1 WHERE shard = 0;
END;

DROP TRIGGER pool_stats_delete;
CREATE TRIGGER pool_stats_delete AFTER DELETE ON pool
BEGIN
    UPDATE pool_stats SET members = members - 1, changes = changes + 1 WHERE shard = 0;
END;

CREATE TRIGGER pool_stats_rename AFTER UPDATE OF character_name, order_key ON pool
    WHEN OLD.character_name IS NOT NEW.character_name OR OLD.order_key IS NOT NEW.order_key
BEGIN
    UPDATE pool_stats SET changes = changes + 1 WHERE shard = 0;
END;

-- The list a draw is about to use, stored ahead of the draw moment
-- (StageDrawList), so that the draw's own transaction writes a reference
-- instead of megabytes. A draw_proofs row without a list_gzip of its own
-- finds its list here by its hash; draws of an unchanged pool share one.
CREATE TABLE draw_lists (
    list_hash TEXT PRIMARY KEY,
    list_gzip BLOB NOT NULL,
    staged_at TEXT NOT NULL
);
CREATE INDEX draw_proofs_list_hash ON draw_proofs (list_hash);
