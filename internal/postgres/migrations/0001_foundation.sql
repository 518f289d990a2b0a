-- The append-only audit log: every state change appends here in its transaction.
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id   text        NOT NULL,
    version     integer     NOT NULL CHECK (version > 0),
    type        text        NOT NULL,
    data        jsonb       NOT NULL,
    at          timestamptz NOT NULL,
    UNIQUE (stream_id, version)
);

CREATE FUNCTION mgm_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION mgm_events_append_only();

-- One row per viewer; name_key is the case-folded name, unique across the pool.
CREATE TABLE pool (
    twitch_user_id      text PRIMARY KEY,
    twitch_display_name text        NOT NULL,
    character_name      text        NOT NULL,
    name_key            text        NOT NULL,
    enrolled_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX pool_name_key ON pool (name_key);

-- EventSub message ids already handled (Twitch redelivers).
CREATE TABLE eventsub_messages (
    message_id   text PRIMARY KEY,
    message_type text        NOT NULL,
    processed_at timestamptz NOT NULL
);
CREATE INDEX eventsub_messages_processed_at ON eventsub_messages (processed_at);

-- Panel enrollments by the client's idempotency key.
CREATE TABLE enrollment_requests (
    enrollment_request_id text PRIMARY KEY,
    twitch_user_id        text        NOT NULL,
    character_name        text        NOT NULL,
    created_at            timestamptz NOT NULL
);

CREATE TABLE payouts (
    id                    uuid PRIMARY KEY,
    twitch_user_id        text        NOT NULL,
    twitch_display_name   text        NOT NULL,
    character_name        text        NOT NULL,
    gold_amount           bigint      NOT NULL CHECK (gold_amount > 0),
    enrollment_request_id text        NOT NULL,
    status                text        NOT NULL
        CHECK (status IN ('Pending', 'InProgress', 'Sent', 'Failed', 'Cancelled', 'Expired')),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    accepted_at           timestamptz,
    spin_cycle_id         uuid,
    reward_announced      boolean     NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX payouts_enrollment_request_id ON payouts (enrollment_request_id);
CREATE UNIQUE INDEX payouts_spin_cycle_id ON payouts (spin_cycle_id) WHERE spin_cycle_id IS NOT NULL;
CREATE UNIQUE INDEX payouts_one_active_per_viewer ON payouts (twitch_user_id)
    WHERE status IN ('Pending', 'InProgress');
CREATE INDEX payouts_viewer_created ON payouts (twitch_user_id, created_at);
CREATE INDEX payouts_status_created ON payouts (status, created_at);
