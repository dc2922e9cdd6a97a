-- Schedules: a workflow started on a cron or an interval, with Temporal's policies. The body
-- is the schedule as it was saved; the columns beside it are what the scheduler queries.
CREATE TABLE schedules (
    name                  TEXT PRIMARY KEY,
    workflow_name         TEXT NOT NULL,
    body                  BLOB NOT NULL,
    paused                INTEGER NOT NULL DEFAULT 0,
    paused_reason         TEXT,
    next_tick_ms          INTEGER,
    last_tick_ms          INTEGER,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_tick_ms) WHERE paused = 0;
CREATE INDEX schedules_workflow ON schedules (workflow_name);

-- One row per tick the scheduler acted on: the primary key is what makes a tick start at
-- most one run, whichever instance takes it and however often it is taken again.
CREATE TABLE schedule_ticks (
    schedule_name  TEXT NOT NULL,
    nominal_ms     INTEGER NOT NULL,
    workflow_name  TEXT NOT NULL,
    run_id         TEXT,
    state          TEXT NOT NULL,
    started_ms     INTEGER,
    reason         TEXT,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (schedule_name, nominal_ms)
);
-- Ticks whose run has not been seen to end, and ticks waiting for the one running to end.
CREATE INDEX schedule_ticks_open ON schedule_ticks (schedule_name, nominal_ms)
    WHERE state IN ('RUNNING', 'BUFFERED');
CREATE INDEX schedule_ticks_recent ON schedule_ticks (nominal_ms);

-- Pausing every schedule at once (Conductor's admin pause): one row, absent until set.
CREATE TABLE scheduler_admin (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    paused  INTEGER NOT NULL
);
