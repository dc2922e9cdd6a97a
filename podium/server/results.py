"""Recording one worker's result: the checks that may refuse it, then what it changes.

The two halves are apart so that several results of one run can be recorded in one unit
(``result_batch``): everything that may refuse a result happens in ``check_report``, which
writes nothing, so a refused result leaves the unit as it found it and the others go on.

A worker whose request failed on the way back (a timeout, the database failing over just
after the commit) cannot know whether its result was recorded, and sends it again. When the
task has ended exactly as that result says (same status, output and worker), the result was
recorded: it is answered as accepted again, and changes nothing, rather than refused as if
someone else had finished the task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium.engine.events import Event, TaskProgress, TaskResult
from podium.engine.state import RunState, TaskState, TaskStatus
from podium.errors import TaskNotFoundError, ValidationError, WorkflowNotFoundError
from podium.server import contract_hooks, fencing
from podium.server.units import Claimed, Outbox
from podium.store.base import QueueEntry, StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator

__all__ = ["Report", "check_report", "record_tx", "report_tx", "unknown_task"]


@dataclass(frozen=True, slots=True)
class Report:
    """A worker's result for one task, with what the caller proved and asked for."""

    task_id: str
    status: TaskStatus
    output: dict[str, Any] | None = None
    reason: str | None = None
    worker_id: str | None = None
    callback_after_s: int = 0
    logs: tuple[dict[str, Any], ...] = ()
    next_for_worker: bool = False
    extend_lease: bool = False
    lease_token: str | None = None
    caller_key: str = fencing.OPEN
    check: Callable[[TaskState], None] | None = None
    traceparent: str | None = None
    """The trace the result came from, for its spans after the commit (None: the request's)."""


def report_tx(
    orchestrator: Orchestrator, tx: StoreTx, outbox: Outbox, report: Report, now: int
) -> Claimed | None:
    """Record ``report`` as a unit of its own does: its run locked, then its queue row."""
    found = tx.task_run_for_update(report.task_id)
    if found is None:
        raise unknown_task(report.task_id)
    run_id, run, entry = found
    if run is None:
        raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")
    state, key = run
    event = check_report(orchestrator, tx, report, state, key, entry, now)
    return record_tx(orchestrator, tx, outbox, report, state, key, entry, event, now)


def unknown_task(task_id: str) -> TaskNotFoundError:
    """The refusal of a result for a task id no task has."""
    return TaskNotFoundError(f"no task has id {task_id}", service="server", field="taskId")


def check_report(
    orchestrator: Orchestrator,
    tx: StoreTx,
    report: Report,
    state: RunState,
    key: str,
    entry: QueueEntry | None,
    now: int,
) -> Event | None:
    """The event ``report`` makes of its task, or the error that refuses it; writes nothing.
    None: the task ended as ``report`` says already (the same result, sent again)."""
    task_id, status, output = report.task_id, report.status, report.output or {}
    task = state.task(task_id)
    if report.check is not None and task is not None:
        report.check(task)
    if task is not None and recorded_already(task, report):
        return None
    fencing.check_lease(task_id, entry, report.worker_id, report.lease_token, report.caller_key)
    started = entry.started_at if entry else None
    polls = entry.poll_count if entry else 0
    if status == TaskStatus.IN_PROGRESS:
        return TaskProgress(
            now,
            task_id,
            output,
            report.worker_id,
            started,
            polls,
            report.callback_after_s,
            report.logs,
        )
    if status.is_active:
        raise ValidationError(f"status {status} cannot be reported by a worker", field="status")
    # The output is checked against its contract before the engine sees it.
    final, why, notes = contract_hooks.checked_result(
        orchestrator,
        tx,
        key,
        state,
        task_id,
        status,
        output,
        report.reason,
        report.logs,
        report.worker_id,
        now,
    )
    return TaskResult(now, task_id, final, output, why, report.worker_id, started, polls, notes)


def recorded_already(task: TaskState, report: Report) -> bool:
    """Whether ``task`` ended as ``report`` says: the worker's result, recorded before."""
    return (
        not task.status.is_active
        and not report.status.is_active
        and task.status == report.status
        and task.output == (report.output or {})
        and (report.worker_id is None or task.worker_id == report.worker_id)
    )


def record_tx(
    orchestrator: Orchestrator,
    tx: StoreTx,
    outbox: Outbox,
    report: Report,
    state: RunState,
    key: str,
    entry: QueueEntry | None,
    event: Event | None,
    now: int,
) -> Claimed | None:
    """Carry out ``event`` (from ``check_report``) and claim the worker's next task if asked.
    No event (a result recorded already) changes nothing; the worker polls for its next."""
    if event is None:
        return None
    task_id = report.task_id
    if isinstance(event, TaskProgress) and entry is not None:
        callback_ms = report.callback_after_s * 1000
        if callback_ms and not (report.extend_lease and entry.response_timeout_ms > callback_ms):
            # Postponed, as Conductor puts the task back on its queue: no worker holds it
            # meanwhile, so its response timeout does not run.
            tx.release_lease(task_id, now + callback_ms)
            outbox.poke_sweeper = True
        else:
            tx.extend_lease(task_id, now + entry.response_timeout_ms)
    blueprint = orchestrator.definitions.blueprint(tx, key)
    before = state.task(task_id)
    state = orchestrator.decide_tx(tx, outbox, state, key, blueprint, event)
    if isinstance(event, TaskResult) and before is not None and before.status.is_active:
        step = blueprint.step_of(before)
        moved = orchestrator.policy.after_result(
            tx, before, step, report.status, report.output or {}, report.reason, now
        )
        if moved is not None:
            outbox.transitions.append(moved)
    if not (report.next_for_worker and entry is not None and report.worker_id):
        return None
    # The next lease asks for the token back if this result carried one.
    claimed = orchestrator.claim_tx(
        tx,
        outbox,
        entry.queue,
        report.worker_id,
        1,
        now,
        fencing.lease_key(report.caller_key, report.lease_token is not None),
        known=(state, key),
    )
    if claimed and entry.queue in outbox.ready_queues:
        # Often the task this result queued is the one just handed back: waking parked polls
        # for it would only cost each of them an empty claim. (Tasks other units queued,
        # those units announced.)
        handed = {item.task.task_id for item in claimed}
        if outbox.ready_tasks.get(entry.queue, set()) <= handed:
            outbox.ready_queues.discard(entry.queue)
    return claimed[0] if claimed else None
