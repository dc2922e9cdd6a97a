-- The event bus. Every event is kept once (its id de-duplicates publishes); each subscriber
-- (an event handler, or a service pulling from a subscription) gets a delivery row that
-- records its attempts and whether it ended done or dead-lettered.
CREATE TABLE events (
    seq             BIGSERIAL PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    topic           TEXT NOT NULL,
    type            TEXT NOT NULL,
    source          TEXT,
    correlation_id  TEXT,
    causation_id    TEXT,
    run_id          TEXT,
    task_id         TEXT,
    time            BIGINT NOT NULL,
    payload         BYTEA NOT NULL
);
CREATE INDEX events_topic ON events (topic, seq);
CREATE INDEX events_correlation ON events (correlation_id, seq);

-- Conductor's event handlers: on an event, if a condition holds, run actions.
CREATE TABLE event_handlers (
    name        TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    active      BIGINT NOT NULL,
    body        BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Pull subscriptions: services that take a topic's events from the bus themselves.
CREATE TABLE event_subscriptions (
    name          TEXT PRIMARY KEY,
    topic         TEXT NOT NULL,
    active        BIGINT NOT NULL,
    max_attempts  BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE event_deliveries (
    event_id         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    subscriber       TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    last_error       TEXT,
    outcome          BYTEA,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (event_id, kind, subscriber)
);
CREATE INDEX event_deliveries_due ON event_deliveries (status, kind, next_attempt_at);
CREATE INDEX event_deliveries_subscriber ON event_deliveries (kind, subscriber, status);

-- WAIT tasks waiting for an event of a type (and correlation id).
CREATE TABLE event_waits (
    task_id         TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL,
    event           TEXT NOT NULL,
    correlation_id  TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX event_waits_event ON event_waits (event);

-- Events for an external broker, written with the decision and sent after commit.
CREATE TABLE event_outbox (
    id               BIGSERIAL PRIMARY KEY,
    event_id         TEXT NOT NULL,
    broker           TEXT NOT NULL,
    destination      TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT
);
CREATE INDEX event_outbox_due ON event_outbox (broker, next_attempt_at);
