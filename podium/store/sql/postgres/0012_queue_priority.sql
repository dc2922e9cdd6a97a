-- Run priority (Conductor's 0-99): a claim hands out a queue's higher-priority tasks first,
-- and within a priority the longest-waiting. The ready index follows the claim's order.
ALTER TABLE queue ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX queue_ready;
CREATE INDEX queue_ready ON queue (queue, priority DESC, available_at) WHERE lease_owner IS NULL;
