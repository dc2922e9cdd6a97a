-- Retention finds ended runs by when they ended.
CREATE INDEX runs_ended ON runs (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX tasks_run ON tasks (run_id);
CREATE INDEX queue_run ON queue (run_id);

-- Ended runs moved out of the live tables by retention (mode "archive").
CREATE TABLE archived_runs (
    run_id          TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    correlation_id  TEXT,
    created_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    archived_at     INTEGER NOT NULL,
    state           BLOB NOT NULL
);
CREATE INDEX archived_runs_ended ON archived_runs (ended_at);
