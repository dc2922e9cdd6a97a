-- Definitions as registered, and the frozen copies runs execute against.
CREATE TABLE task_defs (
    name        TEXT PRIMARY KEY,
    body        BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE workflow_defs (
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE run_definitions (
    key   TEXT PRIMARY KEY,
    body  BYTEA NOT NULL
);

-- One row per workflow run; the engine's state is the JSON in `state`. A decision locks
-- the run's row, so one instance at a time advances a given run.
CREATE TABLE runs (
    run_id          TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    correlation_id  TEXT,
    parent_run_id   TEXT,
    definition_key  TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    state           BYTEA NOT NULL
);
CREATE INDEX runs_created ON runs (created_at);
CREATE INDEX runs_name_created ON runs (name, created_at);
CREATE INDEX runs_status_created ON runs (status, created_at);
CREATE INDEX runs_correlation ON runs (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX runs_ended ON runs (ended_at) WHERE ended_at IS NOT NULL;

-- Which run a task belongs to, for updates that name only the task.
CREATE TABLE tasks (
    task_id  TEXT PRIMARY KEY,
    run_id   TEXT NOT NULL
);
CREATE INDEX tasks_run ON tasks (run_id);

-- Tasks waiting for, or leased to, a worker (or an instance's HTTP executor).
CREATE TABLE queue (
    task_id              TEXT PRIMARY KEY,
    run_id               TEXT NOT NULL,
    queue                TEXT NOT NULL,
    available_at         BIGINT NOT NULL,
    response_timeout_ms  BIGINT NOT NULL,
    lease_owner          TEXT,
    lease_until          BIGINT,
    poll_count           INTEGER NOT NULL DEFAULT 0,
    started_at           BIGINT
);
CREATE INDEX queue_ready ON queue (queue, available_at) WHERE lease_owner IS NULL;
CREATE INDEX queue_leased ON queue (lease_until) WHERE lease_owner IS NOT NULL;
CREATE INDEX queue_run ON queue (run_id);

CREATE TABLE timers (
    run_id  TEXT NOT NULL,
    key     TEXT NOT NULL,
    due_at  BIGINT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE idempotency (
    name    TEXT NOT NULL,
    key     TEXT NOT NULL,
    run_id  TEXT NOT NULL,
    PRIMARY KEY (name, key)
);

-- A counter bumped by every definition change, so every instance's cache of resolved
-- definitions can tell when it is stale without reading the definitions themselves.
CREATE TABLE definitions_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL
);
INSERT INTO definitions_generation (id, generation) VALUES (1, 0);

-- Ended runs moved out of the live tables by retention (mode "archive").
CREATE TABLE archived_runs (
    run_id          TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    correlation_id  TEXT,
    created_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    archived_at     BIGINT NOT NULL,
    state           BYTEA NOT NULL
);
CREATE INDEX archived_runs_ended ON archived_runs (ended_at);
