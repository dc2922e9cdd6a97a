-- A counter bumped by every definition change, so caches of resolved definitions can tell
-- when they are stale without reading the definitions themselves.
CREATE TABLE definitions_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO definitions_generation (id, generation) VALUES (1, 0);
