-- The gift queue (rules.md § Gift queue): one row per request. seq orders a
-- streamer's requests by creation (1, 2, 3, …), so equal timestamps still
-- order deterministically; it is assigned as MAX + 1 under a per-streamer lock.
CREATE TABLE gift_requests (
    id                  uuid PRIMARY KEY,
    streamer_id         text        NOT NULL,
    seq                 bigint      NOT NULL CHECK (seq > 0),
    viewer_id           text        NOT NULL,
    viewer_display_name text        NOT NULL,
    character_name      text        NOT NULL,
    state               text        NOT NULL
        CHECK (state IN ('Pending', 'SelectingItem', 'WaitingConfirmation', 'Completed', 'Failed')),
    selected_item       jsonb,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    timeout_at          timestamptz,
    failure_reason      text,
    source              text        NOT NULL CHECK (source IN ('chat', 'panel')),
    message_id          text,
    -- Exactly the served states have a deadline; exactly Failed has a reason;
    -- a request past item selection has an item.
    CHECK ((state IN ('SelectingItem', 'WaitingConfirmation')) = (timeout_at IS NOT NULL)),
    CHECK ((state = 'Failed') = (failure_reason IS NOT NULL)),
    CHECK (state NOT IN ('WaitingConfirmation', 'Completed') OR selected_item IS NOT NULL)
);
CREATE UNIQUE INDEX gift_requests_streamer_seq ON gift_requests (streamer_id, seq);
-- One request served at a time per streamer.
CREATE UNIQUE INDEX gift_requests_one_served_per_streamer ON gift_requests (streamer_id)
    WHERE state IN ('SelectingItem', 'WaitingConfirmation');
-- At most one open request per viewer and streamer.
CREATE UNIQUE INDEX gift_requests_one_open_per_viewer ON gift_requests (streamer_id, viewer_id)
    WHERE state IN ('Pending', 'SelectingItem', 'WaitingConfirmation');
-- One completed gift per viewer and streamer, ever. (Columns in the other
-- order, as on SQLite, where the order tells the two viewer indexes apart.)
CREATE UNIQUE INDEX gift_requests_one_completed_per_viewer ON gift_requests (viewer_id, streamer_id)
    WHERE state = 'Completed';
CREATE INDEX gift_requests_deadline ON gift_requests (timeout_at) WHERE timeout_at IS NOT NULL;
CREATE INDEX gift_requests_viewer_updated ON gift_requests (streamer_id, viewer_id, updated_at);
