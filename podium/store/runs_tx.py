"""A run's operations, shared by both backends: the run's row and a row per task.

A run is kept as a header row in ``runs`` (``state`` holds ``RunState.header_dict``, ``rev``
a random value new at every write) and a row per task in ``tasks`` (``body``, in ``seq``
order). A step writes the header and only the tasks ``RunState.task_changes`` names, so its
cost follows what it changed, not the size of the run. A task the run dropped keeps its row
without a body: ``run_of_task`` still finds its run, so a late result for it is answered as
one for a task the run no longer has. Rows written before runs had task rows hold the whole
run in ``state``; they are read as they are, and their next write (a state read that way has
every task to write) puts them in the new shape.

A written state is marked committed, and offered to the ``RunCache``, only once its
transaction has committed (``runs_committed``): a rolled-back unit leaves neither behind.

The SQL is written with ``?`` (PostgreSQL's transaction rewrites it, see ``dialect``), and
statements nobody reads go through ``_w``; the backends differ in a few hooks: how a list is
matched (``_any``), how task rows are written in bulk (``_insert_tasks``), and the runs
SQLite's transaction keeps until its commit (``pending_runs``); PostgreSQL adds row locks.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from podium.engine import loop_entries
from podium.engine.state import RunState
from podium.store.base import QueueEntry, RunQuery, run_order_sql
from podium.store.run_cache import RunCache
from podium.store.task_bodies import TaskBodies

__all__ = ["RunsTxMixin", "TaskRow"]

TaskRow = tuple[str, int | None, bytes | None]
"""A task's row as written: its id, ``seq`` and encoded body (both None for an id alone)."""

_RUN_TABLES = ("queue", "timers", "tasks", "idempotency")
"""Tables with rows of a run, deleted with it (the run's own row last)."""


def new_rev() -> int:
    """A random signed 64-bit value (what both backends' integer columns hold)."""
    return int.from_bytes(os.urandom(8), "big", signed=True)


@dataclass(slots=True)
class _Written:
    rev: int
    size: int
    state: RunState


class RunsTxMixin:
    """The run operations of ``StoreTx``; a backend's transaction supplies the hooks."""

    __slots__ = ("_written", "_written_undo", "runs")
    runs: RunCache
    _written: dict[str, _Written]
    """Each run this transaction wrote, as last written: marked committed and cached once the
    transaction commits, and answered by ``get_run`` before then (a unit reading a run it
    just wrote gets that very state)."""
    _written_undo: list[tuple[str, _Written | None]] | None
    """What the unit now running replaced in ``_written`` (SQLite rolls units back alone)."""

    # ---- hooks ----------------------------------------------------------------------------

    if TYPE_CHECKING:  # supplied by EventsTxMixin and the backend's own transaction
        _POSTGRES: ClassVar[bool]

        def _x(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any: ...
        def _w(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> None: ...
        def queue_entry(self, task_id: str) -> QueueEntry | None: ...

    def _any(self, column: str, values: list[str]) -> tuple[str, list[Any]]:
        """A condition that ``column`` is one of ``values``, and its parameters."""
        raise NotImplementedError

    def _insert_tasks(self, run_id: str, rows: list[TaskRow], *, update: bool) -> None:
        """Insert task rows; an existing row takes the new seq and body if ``update``, else
        it is left as it is."""
        raise NotImplementedError

    def _pending_run(self, run_id: str) -> RunState | None:
        """A run changed in this transaction and not written yet (SQLite's)."""
        return None

    def _defer_run(self, state: RunState) -> bool:
        """Keep ``state`` to write before the commit; False: write it now."""
        return False

    def _store_pending(self) -> None:
        """Write the runs kept for the commit, before SQL reads runs by more than id."""

    def _drop_pending(self, run_id: str) -> None:
        """The run is deleted: nothing of it is to be written."""

    # ---- the transaction's written runs (the store's, not the protocol's) -----------------

    def _init_runs(self, runs: RunCache) -> None:
        self.runs = runs
        self._written = {}
        self._written_undo = None

    def runs_begin_unit(self) -> None:
        self._written_undo = []

    def runs_roll_back_unit(self) -> None:
        """The unit's savepoint was rolled back: so were its writes."""
        undo, self._written_undo = self._written_undo or [], []
        for run_id, before in reversed(undo):
            if before is None:
                self._written.pop(run_id, None)
            else:
                self._written[run_id] = before

    def runs_committed(self) -> None:
        """The transaction committed: what it wrote is now each run's committed state."""
        written, self._written = self._written, {}
        self._written_undo = None
        for run_id, entry in written.items():
            entry.state.mark_committed()
            self.runs.put(run_id, entry.rev, entry.size, entry.state)

    def runs_discarded(self) -> None:
        """The transaction rolled back (or committed and was accounted for)."""
        self._written = {}
        self._written_undo = None

    def _record(self, run_id: str, entry: _Written | None) -> None:
        if self._written_undo is not None:
            self._written_undo.append((run_id, self._written.get(run_id)))
        if entry is None:
            self._written.pop(run_id, None)
        else:
            self._written[run_id] = entry

    # ---- writes ---------------------------------------------------------------------------

    def insert_run(self, state: RunState, definition_key: str) -> None:
        header, rev = orjson.dumps(state.header_dict()), new_rev()
        self._w(
            "INSERT INTO runs (run_id, name, version, status, correlation_id, trace_id, "
            "parent_run_id, definition_key, created_at, updated_at, ended_at, state, rev) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                state.run_id,
                state.name,
                state.version,
                str(state.status),
                # A run given no correlation id is found by its trace id alone, never by a
                # correlation search (Conductor's runs have no such id at all).
                state.shown_correlation_id,
                state.correlation_id,
                state.parent_run_id,
                definition_key,
                state.created_at,
                state.updated_at or state.created_at,
                state.end_at,
                header,
                rev,
            ),
        )
        size = self._write_tasks(state, new=True)
        self._record(state.run_id, _Written(rev, len(header) + size, state))

    def update_run(self, state: RunState) -> None:
        if not self._defer_run(state):
            self._write_run(state)

    def _write_run(self, state: RunState) -> None:
        header, rev = orjson.dumps(state.header_dict()), new_rev()
        self._w(
            "UPDATE runs SET status = ?, updated_at = ?, ended_at = ?, state = ?, rev = ? "
            "WHERE run_id = ?",
            (
                str(state.status),
                state.updated_at or state.created_at,
                state.end_at,
                header,
                rev,
                state.run_id,
            ),
        )
        size = self._write_tasks(state, new=False)
        self._record(state.run_id, _Written(rev, len(header) + size, state))

    def _write_tasks(self, state: RunState, *, new: bool) -> int:
        """Write the rows of the tasks that changed; returns the task bytes the run now
        holds (exactly, when every task was written; else estimated, for the cache)."""
        changes = state.task_changes()
        rows: list[TaskRow] = [
            (task.task_id, task.seq, orjson.dumps(loop_entries.stored_form(task)))
            for task in changes.changed
        ]
        run_id = state.run_id
        if changes.rewrite and not new:
            keep, params = self._any("task_id", [row[0] for row in rows])
            self._w(
                "UPDATE tasks SET seq = NULL, body = NULL "
                f"WHERE run_id = ? AND body IS NOT NULL AND NOT ({keep})",
                [run_id, *params],
            )
        elif changes.removed:
            gone, params = self._any("task_id", list(changes.removed))
            self._w(
                f"UPDATE tasks SET seq = NULL, body = NULL WHERE run_id = ? AND {gone}",
                [run_id, *params],
            )
        if rows:
            self._insert_tasks(run_id, rows, update=True)
        written = sum(len(row[2] or b"") for row in rows)
        if changes.rewrite:
            return written
        return written + self._unchanged_bytes(state, len(rows))

    def _unchanged_bytes(self, state: RunState, changed: int) -> int:
        """An estimate of the bytes of the tasks not written: each as big as the average
        task of the run as last known (their sizes were never read)."""
        unchanged = max(0, len(state.tasks) - changed)
        if not unchanged:
            return 0
        entry = self._written.get(state.run_id)
        known = (entry.size, entry.state) if entry is not None else self.runs.peek(state.run_id)
        if known is None or not known[1].tasks:
            return unchanged * 512
        return unchanged * (known[0] // len(known[1].tasks))

    def set_run_definition(self, run_id: str, definition_key: str, version: int) -> None:
        self._w(
            "UPDATE runs SET definition_key = ?, version = ? WHERE run_id = ?",
            (definition_key, version, run_id),
        )

    def add_task_ids(self, run_id: str, task_ids: list[str]) -> None:
        written = self._written.get(run_id)
        if written is not None and self._pending_run(run_id) is None:
            # The run's rows were written in this transaction (not kept for the commit):
            # its own tasks have theirs already, and writing their ids again would be a
            # statement, on PostgreSQL a round trip, at every step for nothing.
            task_ids = [task_id for task_id in task_ids if written.state.task(task_id) is None]
        if not task_ids:
            return
        self._insert_tasks(run_id, [(task_id, None, None) for task_id in task_ids], update=False)

    def put_idempotent_run(self, name: str, key: str, run_id: str) -> None:
        # Two instances starting the same key at once: the second waits on the first's row
        # and fails with a unique violation, which the PostgreSQL store answers by running
        # its unit again, and then it finds the first run.
        self._w("INSERT INTO idempotency (name, key, run_id) VALUES (?, ?, ?)", (name, key, run_id))

    # ---- reads ----------------------------------------------------------------------------

    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        # SQLite: one writer thread, so nothing else can decide for this run meanwhile.
        pending = self._pending_run(run_id)
        if pending is not None:
            row = self._x("SELECT definition_key FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            return (pending, row[0]) if row else None
        row = self._x(
            "SELECT state, rev, definition_key FROM runs WHERE run_id = ?"
            + (" FOR UPDATE" if for_update and self._POSTGRES else ""),
            (run_id,),
        ).fetchone()
        if row is None:
            return None
        return self._state(run_id, row[0], row[1]), row[2]

    def _state(
        self, run_id: str, stored: bytes, rev: int | None, bodies: list[bytes] | None = None
    ) -> RunState:
        """The run whose header row holds ``stored`` at ``rev``, with its tasks (their
        bodies read here unless given, in ``seq`` order)."""
        known = self._known(run_id, rev)
        if known is not None:
            return known
        header = orjson.loads(stored)
        if "tasks" in header:  # written before runs had task rows: the whole run
            state, size = RunState.from_dict(header), len(stored)
        else:
            if bodies is None:
                bodies = [
                    row[0]
                    for row in self._x(
                        "SELECT body FROM tasks WHERE run_id = ? AND body IS NOT NULL ORDER BY seq",
                        (run_id,),
                    ).fetchall()
                ]
            shared = TaskBodies().fields  # the run's tasks share what repeats between them
            tasks = loop_entries.tasks_from([shared(body) for body in bodies])
            state = RunState.from_parts(header, tasks)
            size = len(stored) + sum(len(body) for body in bodies)
        if rev is not None:
            # Committed (or this transaction's own write, which ``_written`` answers first):
            # a rolled-back write leaves another rev in the row, so this entry never lies.
            self.runs.put(run_id, rev, size, state)
        return state

    def _known(self, run_id: str, rev: int | None) -> RunState | None:
        """The state at ``rev`` if this transaction wrote it or the cache keeps it."""
        written = self._written.get(run_id)
        if written is not None and written.rev == rev:
            return written.state
        return None if rev is None else self.runs.get(run_id, rev)

    def _known_rev(self, run_id: str) -> int | None:
        """The rev of the state ``_known`` would answer for ``run_id`` (None: none known)."""
        written = self._written.get(run_id)
        return written.rev if written is not None else self.runs.rev(run_id)

    def _states(self, rows: list[tuple[str, bytes, int | None]]) -> list[RunState]:
        """``_state`` of each row, the task bodies of all runs not known read at once."""
        unknown = [run_id for run_id, _, rev in rows if self._known(run_id, rev) is None]
        bodies: dict[str, list[bytes]] = {run_id: [] for run_id in unknown}
        if unknown:
            condition, params = self._any("run_id", unknown)
            for run_id, body in self._x(
                f"SELECT run_id, body FROM tasks WHERE {condition} AND body IS NOT NULL "
                "ORDER BY run_id, seq",
                params,
            ).fetchall():
                bodies[run_id].append(body)
        return [
            self._state(run_id, stored, rev, bodies.get(run_id)) for run_id, stored, rev in rows
        ]

    def search_runs(self, query: RunQuery, *, tasks: bool = True) -> tuple[int, list[RunState]]:
        """Runs matching ``query``; without their tasks unless ``tasks`` (summaries need
        none, and reading them costs a row per task)."""
        self._store_pending()
        clauses: list[str] = []
        params: list[Any] = []
        if query.name:
            clauses.append("name = ?")
            params.append(query.name)
        for column, values in (
            ("status", query.statuses),
            ("name", query.names),
            ("run_id", query.run_ids),
        ):
            if values:
                condition, values_params = self._any(column, list(values))
                clauses.append(condition)
                params.extend(values_params)
        for column, value in (
            ("correlation_id", query.correlation_id),
            ("trace_id", query.trace_id),
        ):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if query.started_after is not None:
            clauses.append("created_at >= ?")
            params.append(query.started_after)
        if query.started_before is not None:
            clauses.append("created_at <= ?")
            params.append(query.started_before)
        if query.ended_after is not None:
            clauses.append("ended_at >= ?")
            params.append(query.ended_after)
        if query.ended_before is not None:
            clauses.append("ended_at <= ?")
            params.append(query.ended_before)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = self._x(f"SELECT COUNT(*) FROM runs {where}", params).fetchone()[0]
        rows = self._x(
            f"SELECT run_id, state, rev FROM runs {where} "
            f"ORDER BY {run_order_sql(query)} LIMIT ? OFFSET ?",
            [*params, query.size, query.start],
        ).fetchall()
        if tasks:
            return int(total), self._states(rows)
        return int(total), [_header_only(state) for _, state, _ in rows]

    def run_of_task(self, task_id: str) -> str | None:
        row = self._x("SELECT run_id FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return row[0] if row else None

    def runs_of_tasks(self, task_ids: Collection[str]) -> dict[str, str]:
        condition, params = self._any("task_id", list(task_ids))
        rows = self._x(f"SELECT task_id, run_id FROM tasks WHERE {condition}", params).fetchall()
        return dict(rows)

    def task_run_for_update(
        self, task_id: str
    ) -> tuple[str, tuple[RunState, str] | None, QueueEntry | None] | None:
        run_id = self.run_of_task(task_id)
        if run_id is None:
            return None
        return run_id, self.get_run(run_id, for_update=True), self.queue_entry(task_id)

    def get_idempotent_run(self, name: str, key: str) -> str | None:
        row = self._x(
            "SELECT run_id FROM idempotency WHERE name = ? AND key = ?", (name, key)
        ).fetchone()
        return row[0] if row else None

    # ---- removal --------------------------------------------------------------------------

    def delete_run(self, run_id: str) -> bool:
        self._drop_pending(run_id)
        self._record(run_id, None)
        for table in _RUN_TABLES:
            self._w(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
        deleted: int = self._x("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount
        return deleted > 0

    def remove_ended_runs(self, ended_before: int, limit: int, *, archive: bool, now: int) -> int:
        self._store_pending()
        # PostgreSQL skips locked rows: a run some decision holds now is left for next time.
        rows = self._x(
            "SELECT run_id, name, version, status, correlation_id, created_at, ended_at, state, "
            "rev FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? "
            "LIMIT ?" + (" FOR UPDATE SKIP LOCKED" if self._POSTGRES else ""),
            (ended_before, limit),
        ).fetchall()
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        if archive:
            # The archive keeps each run as one whole document, as it always has: it is
            # read rarely, by hand or by tools, never stepped.
            states = self._states([(row[0], row[7], row[8]) for row in rows])
            for (run_id, name, version, status, correlation_id, created, ended, *_), state in zip(
                rows, states, strict=True
            ):
                whole = state.to_json()
                self._w(
                    "INSERT INTO archived_runs (run_id, name, version, status, correlation_id, "
                    "created_at, ended_at, archived_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (run_id) DO NOTHING",
                    (run_id, name, version, status, correlation_id, created, ended, now, whole),
                )
        for run_id in ids:
            self._drop_pending(run_id)
            self._record(run_id, None)
        condition, params = self._any("run_id", ids)
        for table in (*_RUN_TABLES, "runs"):
            self._w(f"DELETE FROM {table} WHERE {condition}", params)
        return len(ids)


def _header_only(stored: bytes) -> RunState:
    header = orjson.loads(stored)
    header.pop("tasks", None)  # a row written before runs had task rows
    return RunState.from_parts(header, [])
