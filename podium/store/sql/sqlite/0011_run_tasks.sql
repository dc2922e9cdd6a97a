-- A run is kept as a header row (runs.state: every field but the tasks) and a row per task
-- (tasks.body), so that a step writes only the tasks it changed instead of the whole run.
-- Rows written before keep the whole run in runs.state (with its tasks) and no bodies; the
-- store reads them as they are and writes them in the new shape at their next step.
-- A removed task keeps its row without a body: its id still leads to its run.
ALTER TABLE tasks ADD COLUMN seq INTEGER;
ALTER TABLE tasks ADD COLUMN body BLOB;
-- A run's tasks are read in the order they were scheduled; this also serves lookups by run.
CREATE INDEX tasks_run_seq ON tasks (run_id, seq);
DROP INDEX tasks_run;
-- Random and new at every write of the row: what a cached state is checked against.
ALTER TABLE runs ADD COLUMN rev INTEGER;
