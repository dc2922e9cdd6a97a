-- API keys: only a hash of each secret is kept; the secret is shown once, when created.
CREATE TABLE api_keys (
    key_id       TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL,
    body         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    disabled_at  BIGINT
);

-- The key every instance signs and checks tokens with, made by whichever starts first.
CREATE TABLE auth_secret (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    secret  TEXT NOT NULL
);
