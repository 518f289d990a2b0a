-- A draw's list is stored gzip-compressed (drawproof.Gzip), about half the
-- text: 2.4 MB rather than 4.3 MB a cycle at 100,000 members, every five
-- minutes. The retention sweep (PruneDrawLists) later sets it to NULL and
-- keeps the rest: the hash, size and index still say what was drawn.
-- SQLite cannot drop a NOT NULL in place, so the table is rebuilt, the
-- existing lists compressed on the way with mgm_gzip (registered in
-- sqlite.go). list stays, always NULL here, because PostgreSQL keeps its
-- older rows' text in it and the store reads both engines alike.
CREATE TABLE draw_proofs_new (
    cycle_id     TEXT PRIMARY KEY REFERENCES spin_cycles (id),
    list_size    INTEGER NOT NULL CHECK (list_size >= 0),
    list_hash    TEXT    NOT NULL,
    winner_index INTEGER CHECK ((winner_index IS NULL) = (list_size = 0)),
    list_gzip    BLOB,
    list         TEXT
);
INSERT INTO draw_proofs_new (cycle_id, list_size, list_hash, winner_index, list_gzip)
    SELECT cycle_id, list_size, list_hash, winner_index, mgm_gzip(list) FROM draw_proofs;
DROP TABLE draw_proofs;
ALTER TABLE draw_proofs_new RENAME TO draw_proofs;
