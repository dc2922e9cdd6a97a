"""Where the orchestrator's units of work hold tasks to their contracts.

Kept beside the orchestrator rather than in it: the orchestrator makes one call at claim time
and one when a result arrives; what a violation does to the run is decided here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.dsl.models import WorkflowDef
from podium.engine.events import TaskResult
from podium.engine.state import TaskStatus
from podium.errors import ValidationError
from podium.store.base import StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator
    from podium.server.units import Claimed, Outbox

__all__ = ["check_start", "checked_result", "hand_out"]


def hand_out(
    orchestrator: Orchestrator,
    tx: StoreTx,
    outbox: Outbox,
    claimed: list[Claimed],
    keys: dict[str, str],
    now: int,
) -> list[Claimed]:
    """The claimed tasks a worker may have; a task whose input breaks an enforced contract
    fails for good instead (a retry would resolve the same input again)."""
    kept: list[Claimed] = []
    failed_runs: set[str] = set()
    for item in claimed:
        run_id = item.state.run_id
        blueprint = orchestrator.definitions.blueprint(tx, keys[run_id])
        verdict = orchestrator.contracts.check_input(tx, blueprint, item.state, item.task)
        if verdict is None or not verdict.enforced:
            kept.append(item)
            continue
        result = TaskResult(
            now,
            item.task.task_id,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            {},
            verdict.message,
            None,
            item.entry.started_at,
            item.entry.poll_count,
            (),
        )
        orchestrator.event_tx(tx, outbox, run_id, result)
        failed_runs.add(run_id)
    if not failed_runs:
        return kept
    # Failing a task may have ended its run and cancelled tasks claimed beside it.
    fresh = {run_id: orchestrator.load(tx, run_id)[0] for run_id in failed_runs}
    still: list[Claimed] = []
    for item in kept:
        state = fresh.get(item.state.run_id)
        if state is None:
            still.append(item)
            continue
        task = state.task(item.task.task_id)
        if task is not None and task.status.is_active:
            still.append(type(item)(state, task, item.entry))
        else:
            tx.dequeue(item.task.task_id)
    return still


def checked_result(
    orchestrator: Orchestrator,
    tx: StoreTx,
    key: str,
    state: Any,
    task_id: str,
    status: TaskStatus,
    output: dict[str, Any],
    reason: str | None,
    logs: tuple[dict[str, Any], ...],
    worker_id: str | None,
    now: int,
) -> tuple[TaskStatus, str | None, tuple[dict[str, Any], ...]]:
    """A worker's result as the engine should see it once the output is checked."""
    if not status.is_success:
        return status, reason, logs
    blueprint = orchestrator.definitions.blueprint(tx, key)
    verdict = orchestrator.contracts.check_output(tx, blueprint, state, task_id, output, worker_id)
    if verdict is None:
        return status, reason, logs
    return verdict.apply(status, reason, logs, now)


def check_start(
    orchestrator: Orchestrator, tx: StoreTx, definition: WorkflowDef, run_input: dict[str, Any]
) -> None:
    """Refuse (400, nothing started) a run whose input breaks an enforced workflow contract."""
    found = orchestrator.contracts.check_workflow_input(tx, definition, run_input)
    if found is None or not found[0].enforced:
        return
    verdict, path = found
    raise ValidationError(verdict.message, service="contracts", field="input" + path[1:])
