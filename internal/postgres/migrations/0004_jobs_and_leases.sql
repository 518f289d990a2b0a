-- The reward announcement runs as a durable job (internal/jobs). Its outcome
-- is recorded once: 'sent' or 'failed' is set by the attempt that ends it, and
-- the terminal event is written in the same transaction only when this column
-- was still NULL, so no crash or second worker can record two outcomes.
ALTER TABLE payouts ADD COLUMN announce_outcome text CHECK (announce_outcome IN ('sent', 'failed'));
UPDATE payouts SET announce_outcome = 'sent' WHERE reward_announced;
UPDATE payouts SET announce_outcome = 'failed' WHERE NOT reward_announced AND announce_claimed_at IS NOT NULL;

-- Single-holder work (one replica holds the Twitch connection, …): a named
-- lease, held until expires_at unless renewed.
CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);
