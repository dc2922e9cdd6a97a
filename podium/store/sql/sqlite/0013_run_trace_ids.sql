-- A run's trace id gets its own column: correlation_id holds only the correlation id the run
-- was given, so a correlation search no longer matches a run whose only link is its trace id.
-- Rows written before held the trace id in correlation_id, also for runs given none (their
-- header says trace_only): the trace id moves over, and those runs' correlation id is cleared.
ALTER TABLE runs ADD COLUMN trace_id TEXT;
UPDATE runs SET trace_id = correlation_id;
UPDATE runs SET correlation_id = NULL
    WHERE correlation_id IS NOT NULL AND json_extract(CAST(state AS TEXT), '$.trace_only') = 1;
CREATE INDEX runs_trace ON runs (trace_id) WHERE trace_id IS NOT NULL;
-- Archived runs are one whole document each; their column names the correlation id alone too.
UPDATE archived_runs SET correlation_id = NULL
    WHERE correlation_id IS NOT NULL AND json_extract(CAST(state AS TEXT), '$.trace_only') = 1;
