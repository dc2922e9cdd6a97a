"""Runs changed by the units of one SQLite transaction, each written once, before COMMIT.

Every step writes its run back. The SQLite store commits the units waiting together in
one transaction, and when they are results for one wide run (the branches of a fan-out) each
of them used to encode and write the run again, all but the last for nothing: the cost grew
with the square of the fan-out. Here a unit's run is kept as it stands; later units of the
transaction read it from here, and it is encoded and written once, before the commit. That
one write carries every unit's changes: a state's task changes count from the run's last
committed state (``RunState.task_changes``), and none of these states is committed yet.

A unit rolled back to its savepoint takes its changes back (``roll_back_unit``). Anything
that reads the runs table with SQL other than by run id (a search, retention) first has the
waiting runs written (``store``); that may happen inside a unit which is then rolled back,
undoing those writes too, so the runs are kept here until the transaction ends and written
again if need be.
"""

from __future__ import annotations

from collections.abc import Callable

from podium.engine.state import RunState

__all__ = ["PendingRuns"]


class PendingRuns:
    __slots__ = ("_pending", "_undo", "_write", "_written")

    def __init__(self, write: Callable[[RunState], None]) -> None:
        """``write`` stores one run in the transaction."""
        self._write = write
        self._pending: dict[str, RunState] = {}
        self._written: dict[str, RunState] = {}
        """The state last written of each run, while the transaction lasts."""
        self._undo: list[tuple[str, RunState | None]] = []
        """What the unit now running replaced, to put back if it is rolled back."""

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, state: RunState) -> None:
        self._undo.append((state.run_id, self._pending.get(state.run_id)))
        self._pending[state.run_id] = state

    def get(self, run_id: str) -> RunState | None:
        return self._pending.get(run_id)

    def drop(self, run_id: str) -> None:
        """The run is deleted: nothing of it is to be written."""
        if run_id in self._pending:
            self._undo.append((run_id, self._pending.pop(run_id)))
        self._written.pop(run_id, None)

    def begin_unit(self) -> None:
        self._undo.clear()

    def roll_back_unit(self) -> None:
        """The unit's savepoint was rolled back: its runs are as they were before it."""
        for run_id, before in reversed(self._undo):
            if before is None:
                self._pending.pop(run_id, None)
            else:
                self._pending[run_id] = before
        self._undo.clear()
        # The rollback also undid whatever ``store`` wrote during the unit.
        self._written.clear()

    def store(self) -> None:
        """Write every run whose state as it stands is not written yet."""
        for run_id, state in self._pending.items():
            if self._written.get(run_id) is not state:
                self._write(state)
                self._written[run_id] = state

    def end(self) -> None:
        """The transaction committed or rolled back: start the next one empty."""
        self._pending.clear()
        self._written.clear()
        self._undo.clear()
