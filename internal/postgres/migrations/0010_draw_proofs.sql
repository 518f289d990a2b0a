-- Verifiable draws (issue 17, internal/drawproof): each cycle gets a secret
-- seed when it is created and publishes only its commitment, SHA-256 of the
-- seed, until the draw. Both stay NULL for cycles created before this
-- migration, which have no proof.
ALTER TABLE spin_cycles ADD COLUMN draw_seed text;
ALTER TABLE spin_cycles ADD COLUMN draw_commitment text;

-- The draw reads the eligible members in the proof's canonical order: by
-- order key, hex of the first 16 bytes of SHA-256("mgm-order-v1:" + user
-- id), compared byte by byte (COLLATE "C"). The store computes it on
-- enrollment; the trigger fills it for rows inserted without one (a replica
-- still running the previous version during an upgrade), and existing rows
-- get it here. The index hands the draw the pool in that order without a
-- sort, and holds all the draw reads (an index-only scan).
ALTER TABLE pool ADD COLUMN order_key text COLLATE "C";
CREATE FUNCTION mgm_order_key(user_id text) RETURNS text LANGUAGE sql STABLE STRICT AS $$
    SELECT encode(substring(sha256(convert_to('mgm-order-v1:' || user_id, 'UTF8')) FROM 1 FOR 16), 'hex')
$$;
CREATE FUNCTION pool_order_key_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.order_key IS NULL THEN
        NEW.order_key := mgm_order_key(NEW.twitch_user_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pool_order_key_fill BEFORE INSERT ON pool
    FOR EACH ROW EXECUTE FUNCTION pool_order_key_fill();
UPDATE pool SET order_key = mgm_order_key(twitch_user_id);
ALTER TABLE pool ALTER COLUMN order_key SET NOT NULL;
CREATE INDEX pool_order_key ON pool (order_key) INCLUDE (twitch_user_id, character_name);

-- What the draw used, kept for GET /api/roulette/cycles/{id}/proof because
-- the pool changes right after: the list as the list hash's input (one
-- "orderKey\tcharacterName\n" line per entry, canonical order), its hash, its
-- size and the drawn index (NULL for an empty list).
CREATE TABLE draw_proofs (
    cycle_id     uuid PRIMARY KEY REFERENCES spin_cycles (id),
    list_size    integer NOT NULL CHECK (list_size >= 0),
    list_hash    text    NOT NULL,
    winner_index integer CHECK ((winner_index IS NULL) = (list_size = 0)),
    list         text    NOT NULL
);
