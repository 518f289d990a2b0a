-- The broadcaster's Twitch sign-in (Device Code Grant), one row per named
-- grant. Tokens are stored as given or, when encrypted = 1, as base64 of
-- AES-256-GCM nonce||ciphertext under the key whose fingerprint is key_id, so
-- a row written with another key is recognised instead of decrypted to
-- garbage. version grows with every write: a replica that waited for another's
-- refresh sees it changed and reuses that token instead of refreshing again.
-- invalid_reason is non-empty once Twitch refused the grant; only a new
-- sign-in clears it.
CREATE TABLE twitch_tokens (
    name           TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    login          TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    encrypted      INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
    key_id         TEXT NOT NULL DEFAULT '',
    access_token   TEXT NOT NULL,
    refresh_token  TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    obtained_at    TEXT NOT NULL,
    validated_at   TEXT,
    invalid_reason TEXT NOT NULL DEFAULT '',
    version        INTEGER NOT NULL,
    updated_at     TEXT NOT NULL
);
