-- The roulette shows the pool's size on every refresh, and COUNT(*) walks a
-- whole index: at 100,000 members each refresh cost milliseconds, and
-- refreshes follow every enrollment. The count is kept here instead, by
-- triggers, so it is exact in every transaction (issue 15).
-- One row: SQLite has one writer at a time anyway (PostgreSQL's table has
-- a row per connection; the pool's size is the sum either way).
CREATE TABLE pool_stats (
    shard   INTEGER PRIMARY KEY CHECK (shard = 0),
    members INTEGER NOT NULL CHECK (members >= 0)
);
INSERT INTO pool_stats (shard, members) SELECT 0, COUNT(*) FROM pool;

CREATE TRIGGER pool_stats_insert AFTER INSERT ON pool
BEGIN
    UPDATE pool_stats SET members = members + 1 WHERE shard = 0;
END;

CREATE TRIGGER pool_stats_delete AFTER DELETE ON pool
BEGIN
    UPDATE pool_stats SET members = members - 1 WHERE shard = 0;
END;

-- The draw picks a random slot and reads the member holding it, instead of
-- reading the whole pool: on SQLite the slot is the row's rowid, which an
-- insert takes as one more than the largest and an update keeps. Nothing to
-- add here; PostgreSQL needs a column (its 0007).
