-- A run's trace id gets its own column: correlation_id holds only the correlation id the run
-- was given, so a correlation search no longer matches a run whose only link is its trace id.
-- Rows written before held the trace id in correlation_id, also for runs given none (their
-- header says trace_only): the trace id moves over, and those runs' correlation id is cleared.
-- json, not jsonb: a header may hold an escaped NUL, which jsonb refuses.
ALTER TABLE runs ADD COLUMN trace_id TEXT;
UPDATE runs SET trace_id = correlation_id,
    correlation_id = CASE
        WHEN (convert_from(state, 'UTF8')::json ->> 'trace_only') = 'true' THEN NULL
        ELSE correlation_id
    END
    WHERE correlation_id IS NOT NULL;
CREATE INDEX runs_trace ON runs (trace_id) WHERE trace_id IS NOT NULL;
-- Archived runs are one whole document each; their column names the correlation id alone too.
UPDATE archived_runs SET correlation_id = NULL
    WHERE correlation_id IS NOT NULL
    AND (convert_from(state, 'UTF8')::json ->> 'trace_only') = 'true';
