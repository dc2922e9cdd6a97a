-- A run is kept as a header row (runs.state: every field but the tasks) and a row per task
-- (tasks.body), so that a step writes only the tasks it changed instead of the whole run.
-- Rows written before keep the whole run in runs.state (with its tasks) and no bodies; the
-- store reads them as they are and writes them in the new shape at their next step.
-- A removed task keeps its row without a body: its id still leads to its run.
ALTER TABLE tasks ADD COLUMN seq BIGINT, ADD COLUMN body BYTEA;
-- A run's tasks are read in the order they were scheduled; this also serves lookups by run.
CREATE INDEX tasks_run_seq ON tasks (run_id, seq);
DROP INDEX tasks_run;
-- A task's row is rewritten as it moves on (scheduled, started, done), never its indexed
-- columns: room on each page keeps those updates heap-only, as for runs (0006).
ALTER TABLE tasks SET (fillfactor = 80);
-- Random and new at every write of the row: what a cached state is checked against.
ALTER TABLE runs ADD COLUMN rev BIGINT;
