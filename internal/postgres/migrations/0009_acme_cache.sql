-- Built-in HTTPS (Mgm__TlsDomain): what the ACME client keeps between runs —
-- the CA account key, the certificate with its private key, and the
-- challenge answers while an order is open — shared by every replica, so
-- that one replica's order serves them all and any replica can answer the
-- CA's challenge. Keys are autocert's cache keys; data is opaque to the store.
CREATE TABLE acme_cache (
    key        text PRIMARY KEY,
    data       bytea NOT NULL,
    updated_at timestamptz NOT NULL
);
