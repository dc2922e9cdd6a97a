"""A transaction seen through one run kept in memory: the run is read once and written once.

``result_batch`` records the results of one run one after another in one unit. Each step
writes its whole run back, and on PostgreSQL every such write re-encodes and re-sends the
whole run; for the branches of a wide fan-out that cost grows with the square of the
fan-out. Here the unit's decisions see the run as the previous result left it, and it is
written once, at the end (``flush``).

The run's queue rows are read once too (``entry``), and a queue a claim found empty is not
asked again (``claim``), until a write through here may have changed them: a result's
claim of the worker's next task mostly finds nothing once a fan-out's branches are all out.
Rows other units change meanwhile are as a unit of one result could have found them, had it
run a moment earlier.

Everything else goes to the transaction as it is. Each call that may write counts in
``writes``: a result refused before it wrote anything left the unit as it was, and the unit
can go on with the next one. Any name not known to be a read counts as a write, so an
operation added later errs on the safe side (the unit then gives up and its results are
recorded one unit each).
"""

from __future__ import annotations

from typing import Any

from podium.engine.state import RunState
from podium.store.base import QueueEntry, RunQuery, StoreTx

__all__ = ["HeldRun"]

_READS = frozenset(
    {
        "breaker_events",
        "count_leased",
        "definitions_generation",
        "get_api_key",
        "get_breaker",
        "get_cached_result",
        "get_contract",
        "get_idempotent_run",
        "get_run_definition",
        "get_service",
        "get_task_def",
        "get_workflow_def",
        "list_api_keys",
        "list_breakers",
        "list_contract_versions",
        "list_contracts",
        "list_services",
        "list_task_defs",
        "list_workflow_defs",
        "next_available_at",
        "next_lease_expiry",
        "next_timer_due",
        "queue_entries",
        "queue_entry",
        "queue_sizes",
        "queues_ready_between",
        "rate_window",
        "run_of_task",
        "runs_of_tasks",
    }
)


_QUEUE_ROW_WRITES = frozenset({"dequeue", "enqueue", "extend_lease", "release_lease", "defer"})
"""Writes of one queue row, named by their first argument, the task id."""
_OTHER_WRITES = frozenset(
    {
        "add_breaker_event",
        "add_notification",
        "add_outcomes",
        "add_task_ids",
        "announce_ready",
        "delete_timer",
        "insert_run",
        "lock_queue",
        "put_breaker",
        "put_cached_result",
        "put_idempotent_run",
        "put_rate_window",
        "put_run_definition",
        "put_timer",
    }
)
"""Writes that change no queue row and make no task claimable."""


class HeldRun:
    """Stands for the ``StoreTx`` it wraps (cast it), holding the run ``run_id``."""

    __slots__ = (
        "_dirty",
        "_empty",
        "_entries",
        "_gone",
        "_stale",
        "_tx",
        "key",
        "run_id",
        "state",
        "writes",
    )

    def __init__(self, tx: StoreTx, state: RunState, key: str) -> None:
        """``state`` and ``key`` as ``tx.get_run(..., for_update=True)`` read them."""
        self._tx = tx
        self.run_id = state.run_id
        self.state = state
        self.key = key
        self._dirty = False
        self._gone = False
        self.writes = 0
        """Calls that may have written, so far."""
        self._entries: dict[str, QueueEntry | None] | None = None
        """The run's queue rows by task id, as read and not written since (None: unread)."""
        self._stale: set[str] = set()
        """Task ids whose queue row was written since it was read."""
        self._empty: set[str] = set()
        """Queues a claim found empty, with nothing written since that could fill them."""

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._tx, name)
        if name in _READS:
            return attr
        self.writes += 1
        if name in _QUEUE_ROW_WRITES:

            def row_write(task_id: str, *args: Any, **kwargs: Any) -> Any:
                if name == "dequeue" and self._entries is not None:
                    self._entries[task_id] = None
                    self._stale.discard(task_id)
                else:
                    self._stale.add(task_id)
                if name in ("enqueue", "release_lease"):
                    self._empty.clear()
                return attr(task_id, *args, **kwargs)

            return row_write
        if name not in _OTHER_WRITES:
            self._forget_queue()
        return attr

    # ---- the run's queue rows -----------------------------------------------------------

    def entry(self, task_id: str) -> QueueEntry | None:
        """The queue row of ``task_id`` as ``tx.queue_entry`` would read it now."""
        if self._entries is None:
            self._entries = {e.task_id: e for e in self._tx.queue_entries(self.run_id)}
        if task_id in self._stale:
            self._entries[task_id] = self._tx.queue_entry(task_id)
            self._stale.discard(task_id)
        return self._entries.get(task_id)

    def _forget_queue(self) -> None:
        self._entries = None
        self._stale.clear()
        self._empty.clear()

    # ---- the held run -----------------------------------------------------------------

    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        if run_id == self.run_id:
            return None if self._gone else (self.state, self.key)
        return self._tx.get_run(run_id, for_update=for_update)

    def update_run(self, state: RunState) -> None:
        self.writes += 1
        if state.run_id == self.run_id and not self._gone:
            self.state = state
            self._dirty = True
        else:
            self._tx.update_run(state)

    def task_run_for_update(
        self, task_id: str
    ) -> tuple[str, tuple[RunState, str] | None, QueueEntry | None] | None:
        found = self._tx.task_run_for_update(task_id)
        if found is None or found[0] != self.run_id:
            return found
        return found[0], self.get_run(self.run_id), found[2]

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
        if queue in self._empty:
            return []
        self.writes += 1
        claimed = self._tx.claim(
            queue, worker_id, count, now, lease_key=lease_key, known_run=known_run
        )
        if not claimed:
            self._empty.add(queue)
        self._stale.update(entry.task_id for entry, _ in claimed)
        # The store reads the runs of the tasks it claims from their rows, which do not
        # hold the held run as it stands.
        return [
            (entry, self.get_run(self.run_id) if entry.run_id == self.run_id else run)
            for entry, run in claimed
        ]

    def set_run_definition(self, run_id: str, definition_key: str, version: int) -> None:
        self.writes += 1
        self._tx.set_run_definition(run_id, definition_key, version)
        if run_id == self.run_id:
            self.key = definition_key

    def delete_run(self, run_id: str) -> bool:
        self.writes += 1
        self._forget_queue()
        if run_id == self.run_id:
            self._gone = True
            self._dirty = False
        return self._tx.delete_run(run_id)

    # ---- what reads the runs table by other means than the run's id ------------------------

    def search_runs(self, query: RunQuery) -> tuple[int, list[RunState]]:
        self.flush()
        return self._tx.search_runs(query)

    def remove_ended_runs(self, ended_before: int, limit: int, *, archive: bool, now: int) -> int:
        self.writes += 1
        self._forget_queue()
        self.flush()
        return self._tx.remove_ended_runs(ended_before, limit, archive=archive, now=now)

    def flush(self) -> None:
        """Write the held run to the transaction if it changed since it was last written."""
        if self._dirty:
            self._tx.update_run(self.state)
            self._dirty = False
