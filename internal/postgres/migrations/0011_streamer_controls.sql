-- The streamer's controls (issue 17). One row, shared by every replica:
-- the pause, the last resume (windows that started before it do not draw)
-- and what EventSub last said of the stream (NULL: nothing heard yet).
CREATE TABLE roulette_controls (
    id             integer PRIMARY KEY CHECK (id = 1),
    paused         boolean NOT NULL DEFAULT false,
    paused_at      timestamptz,
    paused_by      text,
    resumed_at     timestamptz,
    stream_live    boolean,
    stream_live_at timestamptz,
    CHECK (paused = (paused_at IS NOT NULL)),
    CHECK ((stream_live IS NULL) = (stream_live_at IS NULL))
);
INSERT INTO roulette_controls (id) VALUES (1);

-- Viewers the streamer banned from the pool, by Twitch user id.
CREATE TABLE bans (
    twitch_user_id      text PRIMARY KEY,
    twitch_display_name text        NOT NULL,
    character_name      text        NOT NULL,
    reason              text        NOT NULL,
    banned_by           text        NOT NULL,
    banned_at           timestamptz NOT NULL
);

-- A banned viewer is never in the pool, whatever a caller checked: the ban
-- removes the row in its transaction (under the viewer's advisory lock, as
-- enrollments take it), and this refuses a new one.
CREATE FUNCTION mgm_pool_not_banned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM bans WHERE twitch_user_id = NEW.twitch_user_id) THEN
        RAISE EXCEPTION 'pool_not_banned: the viewer is banned'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pool_not_banned';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pool_not_banned BEFORE INSERT OR UPDATE ON pool
    FOR EACH ROW EXECUTE FUNCTION mgm_pool_not_banned();

-- The history export reads events and payouts by time, a page at a time.
CREATE INDEX events_at ON events (at, id);
CREATE INDEX payouts_created ON payouts (created_at, id);
