-- Services: who owns what, whom to call, and how each service's circuit breaker behaves.
CREATE TABLE services (
    name        TEXT PRIMARY KEY,
    body        BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Each service's breaker, shared by every instance.
CREATE TABLE breakers (
    service     TEXT PRIMARY KEY,
    body        BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE breaker_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX breaker_events_service ON breaker_events (service, id);

-- Fixed-window dispatch counters for rate-limited task types.
CREATE TABLE rate_windows (
    queue         TEXT PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    used          INTEGER NOT NULL
);

-- Cached task outputs (cacheConfig): served instead of running the task again until expiry.
CREATE TABLE result_cache (
    key         TEXT PRIMARY KEY,
    body        BLOB NOT NULL,
    expires_at  INTEGER NOT NULL
);
