-- Notifications: a row per message to one channel, written in the transaction of the
-- decision that caused it (the outbox), sent after the commit by each instance's pump. The
-- dedupe key (run or subject, event, channel) makes a decision taken twice write one row.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    dedupe_key   TEXT NOT NULL UNIQUE,
    channel      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    event        TEXT NOT NULL,
    run_id       TEXT,
    service      TEXT,
    target       BLOB NOT NULL,
    body         BLOB NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- What the pump claims: pending rows by when they are due.
CREATE INDEX notifications_due ON notifications (next_at) WHERE state = 'PENDING';
CREATE INDEX notifications_state ON notifications (state, created_at);

-- The delivery log: one row per attempt to send a notification.
CREATE TABLE notification_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  TEXT NOT NULL,
    at               INTEGER NOT NULL,
    ok               INTEGER NOT NULL,
    detail           TEXT NOT NULL
);
CREATE INDEX notification_attempts_of ON notification_attempts (notification_id, id);
