"""The domain operations of a SQLite transaction (see ``store.base.StoreTx``).

Most operations are shared with PostgreSQL (``definitions_tx``, ``queue_tx``, ``services_tx``,
``events_tx``, ``schedules_tx``); what stays here relies on SQLite's single writer: one unit
of work runs at a time, so a select followed by an update cannot race and nothing needs a
row lock.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Collection
from typing import Any

import orjson

from podium.engine.state import RunState
from podium.store.base import QueueEntry
from podium.store.definitions_tx import DefinitionsTxMixin
from podium.store.events_tx import EventsTxMixin
from podium.store.pending_runs import PendingRuns
from podium.store.queue_tx import (
    QUEUE_COLUMNS as _QUEUE_COLUMNS,
    QueueTxMixin,
    queue_entry_of as _entry,
)
from podium.store.run_cache import RunCache
from podium.store.runs_tx import RunsTxMixin, TaskRow
from podium.store.schedules_tx import SchedulesTxMixin
from podium.store.services_tx import ServicesTxMixin
from podium.store.slos_tx import SlosTxMixin

__all__ = ["SQLiteTx"]


class SQLiteTx(
    RunsTxMixin,
    DefinitionsTxMixin,
    QueueTxMixin,
    ServicesTxMixin,
    EventsTxMixin,
    SchedulesTxMixin,
    SlosTxMixin,
):
    """Runs on the store's own thread, inside a transaction the store opened."""

    __slots__ = ("conn", "defer_runs", "pending")

    conn: sqlite3.Connection

    def __init__(self, conn: sqlite3.Connection, runs: RunCache | None = None) -> None:
        self.conn = conn
        self._init_runs(runs if runs is not None else RunCache())
        self.pending = PendingRuns(self._write_run)
        self.defer_runs = True
        """Whether a changed run waits in ``pending`` for the transaction's end (the store's
        choice; it turns this off to run a batch again with every unit on its own)."""

    # ---- runs (shared in runs_tx; here SQLite's hooks) -------------------------------------

    def _any(self, column: str, values: list[str]) -> tuple[str, list[Any]]:
        # One parameter however long the list: a run may have more tasks than SQLite takes
        # parameters in one statement.
        return f"{column} IN (SELECT value FROM json_each(?))", [orjson.dumps(values).decode()]

    def _insert_tasks(self, run_id: str, rows: list[TaskRow], *, update: bool) -> None:
        self.conn.executemany(
            "INSERT INTO tasks (task_id, run_id, seq, body) VALUES (?, ?, ?, ?) "
            + (
                # An unchanged body is not written again (a run read whole, from a row
                # written before task rows, has every task to write at its next step).
                "ON CONFLICT (task_id) DO UPDATE SET seq = excluded.seq, body = excluded.body "
                "WHERE tasks.body IS NOT excluded.body"
                if update
                else "ON CONFLICT (task_id) DO NOTHING"
            ),
            [(task_id, run_id, seq, body) for task_id, seq, body in rows],
        )

    def _pending_run(self, run_id: str) -> RunState | None:
        return self.pending.get(run_id)

    def _defer_run(self, state: RunState) -> bool:
        if self.defer_runs:
            self.pending.put(state)
        return self.defer_runs

    def _store_pending(self) -> None:
        self.pending.store()

    def _drop_pending(self, run_id: str) -> None:
        self.pending.drop(run_id)

    def begin_unit(self) -> None:
        """A unit of work begins inside its savepoint."""
        self.pending.begin_unit()
        self.runs_begin_unit()

    def roll_back_unit(self) -> None:
        """The unit's savepoint was rolled back: so is what it changed of runs."""
        self.pending.roll_back_unit()
        self.runs_roll_back_unit()

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
