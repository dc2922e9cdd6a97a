"""The orchestrator's side of ``podium.events.ports.RunOps``: start runs and finish tasks
inside a unit of work the orchestrator opened, sharing its after-commit outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.engine.events import TaskResult
from podium.engine.state import RunStatus, TaskStatus
from podium.errors import ConflictError, HandlerFailedError, TaskNotFoundError
from podium.store.base import StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator
    from podium.server.units import Outbox

__all__ = ["RunOpsTx"]


class RunOpsTx:
    """``podium.events.ports.RunOps`` over one unit of work of the orchestrator."""

    def __init__(self, orchestrator: Orchestrator, tx: StoreTx, outbox: Outbox) -> None:
        self._o, self._tx, self._outbox = orchestrator, tx, outbox

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
        if self._tx.get_run(run_id) is not None:
            return run_id
        depth = 0
        source = self._tx.get_run(source_run_id) if source_run_id else None
        if source is not None:
            # A run whose event starts a run is its parent in all but name: a workflow that
            # starts itself through a handler stops at the same limit as a SUB_WORKFLOW.
            depth = source[0].depth + 1
            limit = self._o.definitions.limits.max_subworkflow_depth
            if depth > limit:
                raise HandlerFailedError(
                    f"start_workflow would start '{name}' at depth {depth}, one below the "
                    f"run {source_run_id} that published the event; the limit is {limit} "
                    "(PODIUM_MAX_SUBWORKFLOW_DEPTH)"
                )
        self._o.start_run_tx(
            self._tx, self._outbox, run_id, name, version, run_input, correlation_id,
            None, None, now, depth=depth,
        )  # fmt: skip
        return run_id

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
        state, key = self._o.load(self._tx, run_id, for_update=True)
        task = state.task(task_id) if task_id else state.latest(ref or "")
        if task is None:
            raise TaskNotFoundError(f"workflow {run_id} has no task {task_id or ref!r}")
        if not task.status.is_active:
            return None
        if state.status != RunStatus.RUNNING:
            raise ConflictError(f"workflow {run_id} is {state.status}", service="events")
        event = TaskResult(now, task.task_id, TaskStatus(status), output, reason)
        self._o.decide_tx(
            self._tx, self._outbox, state, key, self._o.definitions.blueprint(self._tx, key), event
        )
        return task.task_id

    def deliveries_added(self) -> None:
        self._outbox.deliveries = True

    def outbox_added(self, broker: str) -> None:
        self._outbox.outbox_brokers.add(broker)
