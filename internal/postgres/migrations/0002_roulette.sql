-- One row per spin cycle window; the unique window makes a second cycle for
-- the same window impossible, whichever replica creates it.
CREATE TABLE spin_cycles (
    id                       uuid PRIMARY KEY,
    window_start             timestamptz NOT NULL,
    candidate_twitch_user_id text,
    candidate_display_name   text,
    candidate_character_name text,
    drawn_at                 timestamptz,
    outcome                  text CHECK (outcome IN ('winner', 'no_winner', 'no_participants')),
    payout_id                uuid REFERENCES payouts (id),
    decided_at               timestamptz,
    created_at               timestamptz NOT NULL,
    CHECK ((outcome = 'winner') = (payout_id IS NOT NULL)),
    CHECK ((outcome IS NULL) = (decided_at IS NULL)),
    CHECK ((candidate_twitch_user_id IS NULL) = (drawn_at IS NULL))
);
CREATE UNIQUE INDEX spin_cycles_window_start ON spin_cycles (window_start);
CREATE INDEX spin_cycles_undecided ON spin_cycles (window_start) WHERE outcome IS NULL;

-- Set when one process takes the job of announcing a Sent payout in chat, so
-- that no other process (or concurrent request) announces it again.
ALTER TABLE payouts ADD COLUMN announce_claimed_at timestamptz;

-- The lifetime cap: Sent and active gold per viewer never exceeds 10,000.
-- With at most one active payout per viewer (a unique index), checking on
-- insert is enough, even under concurrency.
CREATE FUNCTION mgm_payouts_lifetime_cap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('Pending', 'InProgress', 'Sent') AND
       (SELECT COALESCE(SUM(gold_amount), 0) FROM payouts
        WHERE twitch_user_id = NEW.twitch_user_id AND status IN ('Pending', 'InProgress', 'Sent')) + NEW.gold_amount > 10000
    THEN
        RAISE EXCEPTION 'payouts_lifetime_cap: lifetime gold cap exceeded'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payouts_lifetime_cap';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payouts_lifetime_cap BEFORE INSERT ON payouts
    FOR EACH ROW EXECUTE FUNCTION mgm_payouts_lifetime_cap();
