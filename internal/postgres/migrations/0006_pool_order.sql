-- The pool is read in enrollment order (the roulette's displayed names, the
-- draw's order): without this index every roulette refresh sorted the whole
-- pool, so enrollment got slower as the pool grew (issue 15).
CREATE INDEX pool_enrolled_order ON pool (enrolled_at, twitch_user_id);
