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
    target       BYTEA NOT NULL,
    body         BYTEA NOT NULL,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- What the pump claims: pending rows by when they are due.
CREATE INDEX notifications_due ON notifications (next_at) WHERE state = 'PENDING';
CREATE INDEX notifications_state ON notifications (state, created_at);

-- The delivery log: one row per attempt to send a notification.
CREATE TABLE notification_attempts (
    id               BIGSERIAL PRIMARY KEY,
    notification_id  TEXT NOT NULL,
    at               BIGINT NOT NULL,
    ok               BIGINT NOT NULL,
    detail           TEXT NOT NULL
);
CREATE INDEX notification_attempts_of ON notification_attempts (notification_id, id);
