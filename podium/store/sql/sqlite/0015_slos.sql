-- SLOs as registered: every version of each is kept, the highest being the one in force.
CREATE TABLE slos (
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

-- One row per run and per task attempt that ended, written in the unit of work that ended
-- it: what SLOs are computed from, with no need to read runs' JSON. A run's row has step ''
-- and no service; a task's row names its step (taskReferenceName) and owning service.
CREATE TABLE slo_outcomes (
    ended_at     INTEGER NOT NULL,
    workflow     TEXT NOT NULL,
    step         TEXT NOT NULL,
    service      TEXT,
    status       TEXT NOT NULL,
    duration_ms  INTEGER
);
-- An SLO of a workflow or a step reads a range of one; one of a service reads a range of it.
CREATE INDEX slo_outcomes_workflow ON slo_outcomes (workflow, step, ended_at);
CREATE INDEX slo_outcomes_service ON slo_outcomes (service, ended_at) WHERE service IS NOT NULL;
-- Retention removes rows older than any window by this.
CREATE INDEX slo_outcomes_ended ON slo_outcomes (ended_at);
