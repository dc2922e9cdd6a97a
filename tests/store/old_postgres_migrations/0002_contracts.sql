-- The contract registry: JSON Schemas for task, workflow and event payloads. A version, once
-- stored, never changes, so every instance may cache it forever; the semver parts are kept
-- as numbers so "latest" and "latest 1.x" are an ORDER BY away.
CREATE TABLE contracts (
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    major       INTEGER NOT NULL,
    minor       INTEGER NOT NULL,
    patch       INTEGER NOT NULL,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, name, version)
);
CREATE INDEX contracts_order ON contracts (kind, name, major, minor, patch);
