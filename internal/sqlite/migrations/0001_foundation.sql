-- Timestamps are text in store.TimeFormat (fixed width, UTC, milliseconds), so
-- text order is time order.

-- The append-only audit log: every state change appends here in its transaction.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL CHECK (json_valid(data)),
    at          TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- One row per viewer; name_key is the case-folded name, unique across the pool.
CREATE TABLE pool (
    twitch_user_id      TEXT PRIMARY KEY,
    twitch_display_name TEXT NOT NULL,
    character_name      TEXT NOT NULL,
    name_key            TEXT NOT NULL,
    enrolled_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX pool_name_key ON pool (name_key);

-- EventSub message ids already handled (Twitch redelivers).
CREATE TABLE eventsub_messages (
    message_id   TEXT PRIMARY KEY,
    message_type TEXT NOT NULL,
    processed_at TEXT NOT NULL
);
CREATE INDEX eventsub_messages_processed_at ON eventsub_messages (processed_at);

-- Panel enrollments by the client's idempotency key.
CREATE TABLE enrollment_requests (
    enrollment_request_id TEXT PRIMARY KEY,
    twitch_user_id        TEXT NOT NULL,
    character_name        TEXT NOT NULL,
    created_at            TEXT NOT NULL
);

CREATE TABLE payouts (
    id                    TEXT PRIMARY KEY,
    twitch_user_id        TEXT    NOT NULL,
    twitch_display_name   TEXT    NOT NULL,
    character_name        TEXT    NOT NULL,
    gold_amount           INTEGER NOT NULL CHECK (gold_amount > 0),
    enrollment_request_id TEXT    NOT NULL,
    status                TEXT    NOT NULL
        CHECK (status IN ('Pending', 'InProgress', 'Sent', 'Failed', 'Cancelled', 'Expired')),
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    accepted_at           TEXT,
    spin_cycle_id         TEXT,
    reward_announced      INTEGER NOT NULL DEFAULT 0 CHECK (reward_announced IN (0, 1))
);
CREATE UNIQUE INDEX payouts_enrollment_request_id ON payouts (enrollment_request_id);
CREATE UNIQUE INDEX payouts_spin_cycle_id ON payouts (spin_cycle_id) WHERE spin_cycle_id IS NOT NULL;
CREATE UNIQUE INDEX payouts_one_active_per_viewer ON payouts (twitch_user_id)
    WHERE status IN ('Pending', 'InProgress');
CREATE INDEX payouts_viewer_created ON payouts (twitch_user_id, created_at);
CREATE INDEX payouts_status_created ON payouts (status, created_at);
