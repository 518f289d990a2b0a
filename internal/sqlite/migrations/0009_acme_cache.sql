-- Built-in HTTPS (Mgm__TlsDomain): what the ACME client keeps between runs —
-- the CA account key, the certificate with its private key, and the
-- challenge answers while an order is open. A SQLite deployment keeps them in
-- the data folder (<data>/acme) instead; the table exists so that both stores
-- have one schema and the same store calls work on each.
CREATE TABLE acme_cache (
    key        TEXT PRIMARY KEY,
    data       BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
