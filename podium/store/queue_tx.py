"""The task queue's domain operations, shared by both backends: entries, leases, deferral,
rate windows and timers.

Written once in the SQL both backends accept (see ``dialect``). What differs stays with each
backend: the claim (one statement with ``SKIP LOCKED`` on PostgreSQL, select-then-update
under SQLite's single writer), taking due timers (PostgreSQL locks their runs first), queue
locks and ready notes.
"""

from __future__ import annotations

from typing import Any

from podium.store.base import QueueEntry
from podium.store.dialect import TxDialect

__all__ = ["QUEUE_COLUMNS", "QueueTxMixin", "queue_entry_of"]

QUEUE_COLUMNS = (
    "task_id, run_id, queue, available_at, response_timeout_ms, lease_owner, lease_until, "
    "poll_count, started_at, lease_token, lease_key"
)

# Enqueueing a task already queued starts it afresh. SQLite replaces the whole row, so the
# old lease's token and key go too; PostgreSQL's upsert keeps those two (a released entry's
# token is never checked: fencing looks at leased entries only).
_ENQUEUE_SQLITE = (
    "INSERT OR REPLACE INTO queue (task_id, run_id, queue, available_at, "
    "response_timeout_ms, priority) VALUES (?, ?, ?, ?, ?, ?)"
)
_ENQUEUE_POSTGRES = (
    "INSERT INTO queue (task_id, run_id, queue, available_at, response_timeout_ms, priority) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET "
    "run_id = excluded.run_id, queue = excluded.queue, "
    "available_at = excluded.available_at, "
    "response_timeout_ms = excluded.response_timeout_ms, lease_owner = NULL, "
    "lease_until = NULL, poll_count = 0, started_at = NULL, priority = excluded.priority"
)


def queue_entry_of(row: tuple[Any, ...]) -> QueueEntry:
    """The entry in a row of ``QUEUE_COLUMNS``."""
    return QueueEntry(*row)


class QueueTxMixin(TxDialect):
    __slots__ = ()

    # ---- entries --------------------------------------------------------------------------

    def enqueue(
        self,
        task_id: str,
        run_id: str,
        queue: str,
        available_at: int,
        response_timeout_ms: int,
        priority: int = 0,
    ) -> None:
        self._w(
            _ENQUEUE_POSTGRES if self._POSTGRES else _ENQUEUE_SQLITE,
            (task_id, run_id, queue, available_at, response_timeout_ms, priority),
        )

    def dequeue(self, task_id: str) -> None:
        self._w("DELETE FROM queue WHERE task_id = ?", (task_id,))

    def queue_entry(self, task_id: str) -> QueueEntry | None:
        row = self._x(f"SELECT {QUEUE_COLUMNS} FROM queue WHERE task_id = ?", (task_id,)).fetchone()
        return queue_entry_of(row) if row else None

    def queue_entries(self, run_id: str) -> list[QueueEntry]:
        rows = self._x(f"SELECT {QUEUE_COLUMNS} FROM queue WHERE run_id = ?", (run_id,)).fetchall()
        return [queue_entry_of(row) for row in rows]

    def next_available_at(self, now: int) -> int | None:
        row = self._x(
            "SELECT MIN(available_at) FROM queue WHERE lease_owner IS NULL AND available_at > ?",
            (now,),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def queues_ready_between(self, after: int, until: int) -> list[str]:
        rows = self._x(
            "SELECT DISTINCT queue FROM queue WHERE lease_owner IS NULL "
            "AND available_at > ? AND available_at <= ?",
            (after, until),
        ).fetchall()
        return [row[0] for row in rows]

    def queue_sizes(self, queues: list[str] | None) -> dict[str, int]:
        sql = "SELECT queue, COUNT(*) FROM queue WHERE lease_owner IS NULL"
        params: list[Any] = []
        if queues:
            clause, params = self._in("queue", queues)
            sql += f" AND {clause}"
        sizes = {queue: 0 for queue in queues or []}
        for queue, size in self._x(sql + " GROUP BY queue", params).fetchall():
            sizes[queue] = int(size)
        return sizes

    def queue_backlog(self, now: int) -> dict[str, tuple[int, int]]:
        # One grouped pass over the ``queue_ready`` index (unleased rows by queue): a scrape
        # or an autoscaler's poll costs one query however many queues there are.
        rows = self._x(
            "SELECT queue, COUNT(*), MIN(available_at) FROM queue "
            "WHERE lease_owner IS NULL AND available_at <= ? GROUP BY queue",
            (now,),
        ).fetchall()
        return {queue: (int(depth), int(oldest)) for queue, depth, oldest in rows}

    # ---- leases ---------------------------------------------------------------------------

    def extend_lease(self, task_id: str, lease_until: int) -> None:
        self._w(
            "UPDATE queue SET lease_until = ? WHERE task_id = ? AND lease_owner IS NOT NULL",
            (lease_until, task_id),
        )

    def expired_leases(self, now: int, limit: int) -> list[QueueEntry]:
        rows = self._x(
            f"SELECT {QUEUE_COLUMNS} FROM queue WHERE lease_owner IS NOT NULL "
            "AND lease_until <= ? ORDER BY lease_until LIMIT ?",
            (now, limit),
        ).fetchall()
        return [queue_entry_of(row) for row in rows]

    def release_lease(self, task_id: str, available_at: int | None = None) -> None:
        self._w(
            "UPDATE queue SET lease_owner = NULL, lease_until = NULL, "
            "available_at = COALESCE(?, available_at) WHERE task_id = ?",
            (available_at, task_id),
        )

    def next_lease_expiry(self) -> int | None:
        row = self._x("SELECT MIN(lease_until) FROM queue WHERE lease_owner IS NOT NULL").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def count_leased(self, queue: str) -> int:
        row = self._x(
            "SELECT COUNT(*) FROM queue WHERE queue = ? AND lease_owner IS NOT NULL", (queue,)
        ).fetchone()
        return int(row[0]) if row else 0

    def defer(self, task_id: str, available_at: int) -> None:
        self._w(
            # Not handed out after all: the claim leaves no trace in poll count or start time.
            "UPDATE queue SET lease_owner = NULL, lease_until = NULL, available_at = ?, "
            "started_at = CASE WHEN poll_count <= 1 THEN NULL ELSE started_at END, "
            f"poll_count = {self._greatest}(poll_count - 1, 0) WHERE task_id = ?",
            (available_at, task_id),
        )

    # ---- rate windows ---------------------------------------------------------------------

    def rate_window(self, queue: str) -> tuple[int, int] | None:
        row = self._x(
            "SELECT window_start, used FROM rate_windows WHERE queue = ?", (queue,)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def put_rate_window(self, queue: str, window_start: int, used: int) -> None:
        self._w(
            "INSERT INTO rate_windows (queue, window_start, used) VALUES (?, ?, ?) "
            "ON CONFLICT (queue) DO UPDATE SET window_start = excluded.window_start, "
            "used = excluded.used",
            (queue, window_start, used),
        )

    # ---- timers ---------------------------------------------------------------------------

    def put_timer(self, run_id: str, key: str, due_at: int) -> None:
        self._w(
            "INSERT INTO timers (run_id, key, due_at) VALUES (?, ?, ?) "
            "ON CONFLICT (run_id, key) DO UPDATE SET due_at = excluded.due_at",
            (run_id, key, due_at),
        )

    def delete_timer(self, run_id: str, key: str) -> None:
        self._w("DELETE FROM timers WHERE run_id = ? AND key = ?", (run_id, key))

    def next_timer_due(self) -> int | None:
        row = self._x("SELECT MIN(due_at) FROM timers").fetchone()
        return int(row[0]) if row and row[0] is not None else None
