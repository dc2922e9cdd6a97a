"""What the bus needs from the orchestrator inside one unit of work.

Handler actions and WAIT-for-event completions start runs and finish tasks in the same
transaction that records the delivery, so they go through this narrow interface rather than
the orchestrator's async API (which would open a transaction of its own).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["RunOps"]


class RunOps(Protocol):
    def start_run(
        self,
        run_id: str,
        name: str,
        version: int | None,
        run_input: dict[str, Any],
        correlation_id: str | None,
        now: int,
        *,
        source_run_id: str | None = None,
    ) -> str:
        """Start a run with ``run_id`` (kept if it already exists); returns its id.

        ``source_run_id`` is the run whose event led to it: the new run is one deeper, and is
        not started past the depth limit (raises ``HandlerFailedError``)."""
        ...

    def finish_task(
        self,
        run_id: str,
        task_id: str | None,
        ref: str | None,
        status: str,
        output: dict[str, Any],
        reason: str | None,
        now: int,
    ) -> str | None:
        """Finish the active task (by id, or by reference name) of a run: its id, or None
        when that task has already ended. Raises when there is no such run or task."""
        ...

    def deliveries_added(self) -> None:
        """New deliveries are pending: wake the dispatcher once this unit commits."""
        ...

    def outbox_added(self, broker: str) -> None:
        """An event waits in the outbox for ``broker``: wake its bridge once this commits."""
        ...
