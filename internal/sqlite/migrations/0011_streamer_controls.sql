-- The streamer's controls (issue 17). One row, shared by every process:
-- the pause, the last resume (windows that started before it do not draw)
-- and what EventSub last said of the stream (NULL: nothing heard yet).
CREATE TABLE roulette_controls (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    paused         INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_at      TEXT,
    paused_by      TEXT,
    resumed_at     TEXT,
    stream_live    INTEGER CHECK (stream_live IN (0, 1)),
    stream_live_at TEXT,
    CHECK ((paused = 1) = (paused_at IS NOT NULL)),
    CHECK ((stream_live IS NULL) = (stream_live_at IS NULL))
);
INSERT INTO roulette_controls (id) VALUES (1);

-- Viewers the streamer banned from the pool, by Twitch user id.
CREATE TABLE bans (
    twitch_user_id      TEXT PRIMARY KEY,
    twitch_display_name TEXT NOT NULL,
    character_name      TEXT NOT NULL,
    reason              TEXT NOT NULL,
    banned_by           TEXT NOT NULL,
    banned_at           TEXT NOT NULL
);

-- A banned viewer is never in the pool, whatever a caller checked: the ban
-- removes the row in its transaction, and this refuses a new one.
CREATE TRIGGER pool_not_banned_insert BEFORE INSERT ON pool
WHEN EXISTS (SELECT 1 FROM bans WHERE twitch_user_id = NEW.twitch_user_id)
BEGIN
    SELECT RAISE(ABORT, 'pool_not_banned: the viewer is banned');
END;
CREATE TRIGGER pool_not_banned_update BEFORE UPDATE ON pool
WHEN EXISTS (SELECT 1 FROM bans WHERE twitch_user_id = NEW.twitch_user_id)
BEGIN
    SELECT RAISE(ABORT, 'pool_not_banned: the viewer is banned');
END;

-- The history export reads events and payouts by time, a page at a time.
CREATE INDEX events_at ON events (at, id);
CREATE INDEX payouts_created ON payouts (created_at, id);
