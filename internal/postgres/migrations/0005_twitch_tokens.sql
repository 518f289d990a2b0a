-- The broadcaster's Twitch sign-in (Device Code Grant), one row per named
-- grant. Tokens are stored as given or, when encrypted, as base64 of
-- AES-256-GCM nonce||ciphertext under the key whose fingerprint is key_id, so
-- a row written with another key is recognised instead of decrypted to
-- garbage. version grows with every write: a replica that waited for another's
-- refresh sees it changed and reuses that token instead of refreshing again.
-- invalid_reason is non-empty once Twitch refused the grant; only a new
-- sign-in clears it.
CREATE TABLE twitch_tokens (
    name           text PRIMARY KEY,
    user_id        text NOT NULL,
    login          text NOT NULL,
    scopes         text NOT NULL,
    encrypted      boolean NOT NULL,
    key_id         text NOT NULL DEFAULT '',
    access_token   text NOT NULL,
    refresh_token  text NOT NULL,
    expires_at     timestamptz NOT NULL,
    obtained_at    timestamptz NOT NULL,
    validated_at   timestamptz,
    invalid_reason text NOT NULL DEFAULT '',
    version        bigint NOT NULL,
    updated_at     timestamptz NOT NULL
);
