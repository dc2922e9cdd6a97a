-- A run's row is rewritten at every step. Room left free on each page lets PostgreSQL keep
-- the new version beside the old one (a heap-only update), without new entries in the six
-- indexes on runs, whenever no indexed column changed: every step but a run's first and last.
ALTER TABLE runs SET (fillfactor = 70);
