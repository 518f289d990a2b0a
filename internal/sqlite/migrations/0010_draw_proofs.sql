-- Verifiable draws (issue 17, internal/drawproof): each cycle gets a secret
-- seed when it is created and publishes only its commitment, SHA-256 of the
-- seed, until the draw. Both stay NULL for cycles created before this
-- migration, which have no proof.
ALTER TABLE spin_cycles ADD COLUMN draw_seed TEXT;
ALTER TABLE spin_cycles ADD COLUMN draw_commitment TEXT;

-- The draw reads the eligible members in the proof's canonical order: by
-- order key, hex of the first 16 bytes of SHA-256("mgm-order-v1:" + user
-- id). The store computes it on enrollment; existing rows get it here from
-- mgm_order_key, the same function registered with the driver (sqlite.go).
-- The index hands the draw the pool in that order without a sort, and holds
-- all the draw reads: walking an index that does not cover the read looks
-- every row up in the table besides, ten times slower at 10,000 members.
ALTER TABLE pool ADD COLUMN order_key TEXT CHECK (order_key IS NOT NULL);
UPDATE pool SET order_key = mgm_order_key(twitch_user_id);
CREATE INDEX pool_order_key ON pool (order_key, twitch_user_id, character_name);

-- What the draw used, kept for GET /api/roulette/cycles/{id}/proof because
-- the pool changes right after: the list as the list hash's input (one
-- "orderKey\tcharacterName\n" line per entry, canonical order), its hash, its
-- size and the drawn index (NULL for an empty list).
CREATE TABLE draw_proofs (
    cycle_id     TEXT PRIMARY KEY REFERENCES spin_cycles (id),
    list_size    INTEGER NOT NULL CHECK (list_size >= 0),
    list_hash    TEXT    NOT NULL,
    winner_index INTEGER CHECK ((winner_index IS NULL) = (list_size = 0)),
    list         TEXT    NOT NULL
);
