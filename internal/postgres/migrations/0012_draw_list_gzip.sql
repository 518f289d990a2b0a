-- A draw's list is stored gzip-compressed (drawproof.Gzip), about half the
-- text: 2.4 MB rather than 4.3 MB a cycle at 100,000 members, every five
-- minutes. The retention sweep (PruneDrawLists) later sets it to NULL and
-- keeps the rest: the hash, size and index still say what was drawn.
-- PostgreSQL has no gzip of its own, so the rows drawn before this keep
-- their text in list (TOAST already compresses it) until the sweep removes
-- it; the store reads either.
ALTER TABLE draw_proofs ADD COLUMN list_gzip bytea;
ALTER TABLE draw_proofs ALTER COLUMN list DROP NOT NULL;
