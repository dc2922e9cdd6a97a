-- Definitions as registered, and the frozen copies runs execute against.
CREATE TABLE task_defs (
    name        TEXT PRIMARY KEY,
    body        BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE workflow_defs (
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE run_definitions (
    key   TEXT PRIMARY KEY,
    body  BLOB NOT NULL
);

-- One row per workflow run; the engine's state is the JSON in `state`.
CREATE TABLE runs (
    run_id          TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    correlation_id  TEXT,
    parent_run_id   TEXT,
    definition_key  TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    state           BLOB NOT NULL
);
CREATE INDEX runs_created ON runs (created_at);
CREATE INDEX runs_name_created ON runs (name, created_at);
CREATE INDEX runs_status_created ON runs (status, created_at);
CREATE INDEX runs_correlation ON runs (correlation_id) WHERE correlation_id IS NOT NULL;

-- Which run a task belongs to, for updates that name only the task.
CREATE TABLE tasks (
    task_id  TEXT PRIMARY KEY,
    run_id   TEXT NOT NULL
);

-- Tasks waiting for, or leased to, a worker (or the HTTP executor).
CREATE TABLE queue (
    task_id              TEXT PRIMARY KEY,
    run_id               TEXT NOT NULL,
    queue                TEXT NOT NULL,
    available_at         INTEGER NOT NULL,
    response_timeout_ms  INTEGER NOT NULL,
    lease_owner          TEXT,
    lease_until          INTEGER,
    poll_count           INTEGER NOT NULL DEFAULT 0,
    started_at           INTEGER
);
CREATE INDEX queue_ready ON queue (queue, available_at) WHERE lease_owner IS NULL;
CREATE INDEX queue_leased ON queue (lease_until) WHERE lease_owner IS NOT NULL;

CREATE TABLE timers (
    run_id  TEXT NOT NULL,
    key     TEXT NOT NULL,
    due_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE idempotency (
    name    TEXT NOT NULL,
    key     TEXT NOT NULL,
    run_id  TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
