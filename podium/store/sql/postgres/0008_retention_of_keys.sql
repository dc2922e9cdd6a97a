-- Retention removes a run's idempotency key with the run: found by run id.
CREATE INDEX idempotency_run ON idempotency (run_id);
