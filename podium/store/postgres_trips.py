"""One unit of work's statements on one connection, sent in as few round trips as it allows.

A unit spends most of its time waiting for PostgreSQL to answer, once per statement. Most
statements, though, are writes nobody reads the result of (an updated run, a queued task, a
NOTIFY) or reads the unit needs only later: those wait here and go with the next statement
whose answer is needed, all in one pipeline, so PostgreSQL runs them in order, each seeing
the ones before, as if they had been sent one by one. BEGIN travels with the unit's first
statement and COMMIT with its last.

A waiting statement's error surfaces when it is sent, at a later call than the one that
queued it; it is the same psycopg error, raised inside the same unit, so the store treats
it as before (retry, or StoreError). A unit never acts on a write's error itself.
"""

from __future__ import annotations

from typing import Any

import psycopg

__all__ = ["Params", "RoundTrips"]

Params = tuple[Any, ...] | list[Any]


class RoundTrips:
    __slots__ = ("_conn", "_waiting")

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        # The connection is in autocommit mode: this class says where transactions begin
        # and end, so BEGIN need not cost a round trip of its own.
        self._conn = conn
        self._waiting: list[tuple[psycopg.Cursor[Any] | None, str, Params]] = []

    def begin(self) -> None:
        self.later("BEGIN")

    def commit(self) -> None:
        self.later("COMMIT")
        self.flush()

    def rollback(self) -> None:
        """End a failed unit's transaction (the connection goes back to the pool clean)."""
        self._waiting.clear()
        if not self._conn.closed:
            self._conn.rollback()

    def later(self, sql: str, params: Params = ()) -> None:
        """Queue a statement whose result nobody needs; it goes with the next round trip."""
        self._waiting.append((None, sql, params))

    def ahead(self, sql: str, params: Params = ()) -> psycopg.Cursor[Any]:
        """Queue a read; its rows are on the cursor once ``flush`` (or ``now``) has run."""
        cursor = self._conn.cursor()
        self._waiting.append((cursor, sql, params))
        return cursor

    def answer(self, cursor: psycopg.Cursor[Any]) -> psycopg.Cursor[Any]:
        """``cursor`` (from ``ahead``) with its rows, sending it first if it is still waiting."""
        if any(queued is cursor for queued, _, _ in self._waiting):
            self.flush()
        return cursor

    def now(self, sql: str, params: Params = ()) -> psycopg.Cursor[Any]:
        """Run ``sql`` (after everything waiting) and return its cursor, results in hand."""
        cursor = self.ahead(sql, params)
        self.flush()
        return cursor

    def flush(self) -> None:
        """Send everything waiting, in order, and wait for all of it."""
        waiting = self._waiting
        if not waiting:
            return
        self._waiting = []
        conn = self._conn
        if len(waiting) == 1:
            cursor, sql, params = waiting[0]
            (cursor or conn.cursor()).execute(sql, params)
            return
        with conn.pipeline():
            writes = conn.cursor()  # one for every write: a cursor each costs more
            for cursor, sql, params in waiting:
                (cursor or writes).execute(sql, params)
