"""The domain operations of a SQLite transaction (see ``store.base.StoreTx``).

Most operations are shared with PostgreSQL (``definitions_tx``, ``queue_tx``, ``services_tx``,
``events_tx``); what stays here relies on SQLite's single writer: one unit of work runs at a
time, so a select followed by an update cannot race and nothing needs a row lock.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Collection
from typing import Any

import orjson

from podium.engine.state import RunState
from podium.store.base import QueueEntry, RunQuery, run_order_sql
from podium.store.definitions_tx import DefinitionsTxMixin
from podium.store.events_tx import EventsTxMixin
from podium.store.pending_runs import PendingRuns
from podium.store.queue_tx import (
    QUEUE_COLUMNS as _QUEUE_COLUMNS,
    QueueTxMixin,
    queue_entry_of as _entry,
)
from podium.store.run_cache import RunCache
from podium.store.services_tx import ServicesTxMixin

__all__ = ["SQLiteTx"]


class SQLiteTx(DefinitionsTxMixin, QueueTxMixin, ServicesTxMixin, EventsTxMixin):
    """Runs on the store's own thread, inside a transaction the store opened."""

    __slots__ = ("conn", "defer_runs", "pending", "runs")

    conn: sqlite3.Connection

    def __init__(self, conn: sqlite3.Connection, runs: RunCache | None = None) -> None:
        self.conn = conn
        self.runs = runs if runs is not None else RunCache()
        self.pending = PendingRuns(self._write_run)
        self.defer_runs = True
        """Whether a changed run waits in ``pending`` for the transaction's end (the store's
        choice; it turns this off to run a batch again with every unit on its own)."""

    # ---- runs -----------------------------------------------------------------------------

    def insert_run(self, state: RunState, definition_key: str) -> None:
        stored = state.to_json()
        self.conn.execute(
            "INSERT INTO runs (run_id, name, version, status, correlation_id, parent_run_id, "
            "definition_key, created_at, updated_at, ended_at, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                state.run_id,
                state.name,
                state.version,
                str(state.status),
                state.correlation_id,
                state.parent_run_id,
                definition_key,
                state.created_at,
                state.updated_at or state.created_at,
                state.end_at,
                stored,
            ),
        )
        self.runs.put(state.run_id, stored, state)

    def update_run(self, state: RunState) -> None:
        if self.defer_runs:
            self.pending.put(state)
        else:
            self._write_run(state)

    def _write_run(self, state: RunState) -> None:
        stored = state.to_json()
        self.conn.execute(
            "UPDATE runs SET status = ?, updated_at = ?, ended_at = ?, state = ? WHERE run_id = ?",
            (
                str(state.status),
                state.updated_at or state.created_at,
                state.end_at,
                stored,
                state.run_id,
            ),
        )
        self.runs.put(state.run_id, stored, state)

    def set_run_definition(self, run_id: str, definition_key: str, version: int) -> None:
        self.conn.execute(
            "UPDATE runs SET definition_key = ?, version = ? WHERE run_id = ?",
            (definition_key, version, run_id),
        )

    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        # One writer thread: nothing else can decide for this run while this unit runs.
        pending = self.pending.get(run_id)
        if pending is not None:
            row = self.conn.execute(
                "SELECT definition_key FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            return (pending, row[0]) if row else None
        row = self.conn.execute(
            "SELECT state, definition_key FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            return None
        return self.runs.decode(run_id, row[0]), row[1]

    def delete_run(self, run_id: str) -> bool:
        self.pending.drop(run_id)
        self.conn.execute("DELETE FROM queue WHERE run_id = ?", (run_id,))
        self.conn.execute("DELETE FROM timers WHERE run_id = ?", (run_id,))
        self.conn.execute("DELETE FROM tasks WHERE run_id = ?", (run_id,))
        self.conn.execute("DELETE FROM idempotency WHERE run_id = ?", (run_id,))
        return self.conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount > 0

    def search_runs(self, query: RunQuery) -> tuple[int, list[RunState]]:
        self.pending.store()
        clauses: list[str] = []
        params: list[Any] = []
        if query.name:
            clauses.append("name = ?")
            params.append(query.name)
        if query.statuses:
            clauses.append(f"status IN ({', '.join('?' for _ in query.statuses)})")
            params.extend(query.statuses)
        if query.names:
            clauses.append(f"name IN ({', '.join('?' for _ in query.names)})")
            params.extend(query.names)
        if query.run_ids:
            clauses.append(f"run_id IN ({', '.join('?' for _ in query.run_ids)})")
            params.extend(query.run_ids)
        if query.correlation_id:
            clauses.append("correlation_id = ?")
            params.append(query.correlation_id)
        if query.started_after is not None:
            clauses.append("created_at >= ?")
            params.append(query.started_after)
        if query.started_before is not None:
            clauses.append("created_at <= ?")
            params.append(query.started_before)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = self.conn.execute(f"SELECT COUNT(*) FROM runs {where}", params).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT state FROM runs {where} ORDER BY {run_order_sql(query)} LIMIT ? OFFSET ?",
            [*params, query.size, query.start],
        ).fetchall()
        return total, [RunState.from_dict(orjson.loads(row[0])) for row in rows]

    def add_task_ids(self, run_id: str, task_ids: list[str]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO tasks (task_id, run_id) VALUES (?, ?)",
            [(task_id, run_id) for task_id in task_ids],
        )

    def run_of_task(self, task_id: str) -> str | None:
        row = self.conn.execute("SELECT run_id FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return row[0] if row else None

    def runs_of_tasks(self, task_ids: Collection[str]) -> dict[str, str]:
        sql = "SELECT task_id, run_id FROM tasks WHERE task_id IN (SELECT value FROM json_each(?))"
        return dict(self.conn.execute(sql, (orjson.dumps(list(task_ids)).decode(),)).fetchall())

    def task_run_for_update(
        self, task_id: str
    ) -> tuple[str, tuple[RunState, str] | None, QueueEntry | None] | None:
        run_id = self.run_of_task(task_id)
        if run_id is None:
            return None
        return run_id, self.get_run(run_id, for_update=True), self.queue_entry(task_id)

    def get_idempotent_run(self, name: str, key: str) -> str | None:
        row = self.conn.execute(
            "SELECT run_id FROM idempotency WHERE name = ? AND key = ?", (name, key)
        ).fetchone()
        return row[0] if row else None

    def put_idempotent_run(self, name: str, key: str, run_id: str) -> None:
        self.conn.execute(
            "INSERT INTO idempotency (name, key, run_id) VALUES (?, ?, ?)", (name, key, run_id)
        )

    def remove_ended_runs(self, ended_before: int, limit: int, *, archive: bool, now: int) -> int:
        self.pending.store()
        ids = [
            row[0]
            for row in self.conn.execute(
                "SELECT run_id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?",
                (ended_before, limit),
            )
        ]
        if archive:
            self.conn.executemany(
                "INSERT OR REPLACE INTO archived_runs (run_id, name, version, status, "
                "correlation_id, created_at, ended_at, archived_at, state) "
                "SELECT run_id, name, version, status, correlation_id, created_at, ended_at, ?, "
                "state FROM runs WHERE run_id = ?",
                [(now, run_id) for run_id in ids],
            )
        for run_id in ids:
            self.delete_run(run_id)
        return len(ids)

    # ---- queue (what relies on the single writer) ----------------------------------------

    def claim(
        self,
        queue: str,
        worker_id: str,
        count: int,
        now: int,
        *,
        lease_key: str | None,
        known_run: str | None = None,
    ) -> list[tuple[QueueEntry, tuple[RunState, str] | None]]:
        # The store runs units of work one at a time, so select-then-update cannot race.
        rows = self.conn.execute(
            "SELECT task_id FROM queue WHERE queue = ? AND lease_owner IS NULL "
            "AND available_at <= ? ORDER BY priority DESC, available_at LIMIT ?",
            (queue, now, count),
        ).fetchall()
        if not rows:
            return []
        claimed: list[QueueEntry] = []
        for (task_id,) in rows:
            # uuid4 draws on os.urandom: a token nobody can guess from what a route shows.
            row = self.conn.execute(
                "UPDATE queue SET lease_owner = ?, lease_until = ? + response_timeout_ms, "
                "poll_count = poll_count + 1, started_at = COALESCE(started_at, ?), "
                f"lease_token = ?, lease_key = ? WHERE task_id = ? RETURNING {_QUEUE_COLUMNS}",
                (worker_id, now, now, str(uuid.uuid4()), lease_key, task_id),
            ).fetchone()
            claimed.append(_entry(row))
        runs = {
            run_id: None if run_id == known_run else self.get_run(run_id)
            for run_id in {entry.run_id for entry in claimed}
        }
        return [(entry, runs[entry.run_id]) for entry in claimed]

    def announce_ready(self, queues: Collection[str]) -> None:
        """Nothing to do: one process owns a SQLite file, and it wakes its own polls."""

    def lock_queue(self, queue: str) -> None:
        """Nothing to do: the single writer already runs one unit at a time."""

    # ---- timers ---------------------------------------------------------------------------

    def take_due_timers(self, now: int, limit: int) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            "SELECT run_id, key FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?",
            (now, limit),
        ).fetchall()
        self.conn.executemany("DELETE FROM timers WHERE run_id = ? AND key = ?", rows)
        return [(row[0], row[1]) for row in rows]
