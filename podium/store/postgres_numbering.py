"""PostgreSQL's migrations once had numbers of their own; databases numbered so are renumbered.

Before the numbers were aligned with SQLite's, PostgreSQL's initial schema already held what
SQLite adds in 2 and 3, so every later change had a smaller number there (``OLD_TO_NEW``).
A database is known to use the aligned numbers by a row in ``schema_numbering``, written in
the same transaction as its first migration or its renumbering, never by guessing from
which versions are recorded: a database with recorded versions and no such row was
migrated with the old numbers, one with neither is new.
"""

from __future__ import annotations

from typing import Any

import psycopg

__all__ = ["ALIGNED", "OLD_TO_NEW", "align_numbering"]

ALIGNED = "aligned"

OLD_TO_NEW = {1: 1, 2: 4, 3: 5, 4: 6, 5: 7, 6: 10, 7: 8, 8: 9}

# The old initial schema already included definitions_generation (2) and retention (3).
_IN_OLD_INITIAL = (2, 3)


def align_numbering(conn: psycopg.Connection[Any]) -> bool:
    """Renumber ``schema_migrations`` if it holds old numbers; returns whether it did.

    Runs inside the migration's transaction, under its advisory lock and with the schema on
    the search path, after ``schema_migrations`` exists: instances starting together wait
    for the lock, and the one after the first finds the row and leaves everything be.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_numbering "
        "(id INTEGER PRIMARY KEY CHECK (id = 1), numbering TEXT NOT NULL)"
    )
    if conn.execute("SELECT numbering FROM schema_numbering").fetchone() is not None:
        return False
    recorded = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
    if recorded:
        # Versions unknown to the old numbering (added since on both backends) keep theirs.
        applied = {OLD_TO_NEW.get(version, version): at for version, at in recorded}
        if 1 in applied:
            for version in _IN_OLD_INITIAL:
                applied.setdefault(version, applied[1])
        # Deleted and inserted rather than updated: 2 -> 4 while 4 is still there would
        # collide on the primary key.
        conn.execute("DELETE FROM schema_migrations")
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (%s, %s)",
                sorted(applied.items()),
            )
    conn.execute("INSERT INTO schema_numbering (id, numbering) VALUES (1, %s)", (ALIGNED,))
    return bool(recorded)
