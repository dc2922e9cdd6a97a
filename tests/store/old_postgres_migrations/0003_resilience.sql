-- Services: who owns what, whom to call, and how each service's circuit breaker behaves.
CREATE TABLE services (
    name        TEXT PRIMARY KEY,
    body        BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Each service's breaker, shared by every instance.
CREATE TABLE breakers (
    service     TEXT PRIMARY KEY,
    body        BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE breaker_events (
    id          BIGSERIAL PRIMARY KEY,
    service     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX breaker_events_service ON breaker_events (service, id);

-- Fixed-window dispatch counters for rate-limited task types.
CREATE TABLE rate_windows (
    queue         TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    used          BIGINT NOT NULL
);

-- Cached task outputs (cacheConfig): served instead of running the task again until expiry.
CREATE TABLE result_cache (
    key         TEXT PRIMARY KEY,
    body        BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL
);
