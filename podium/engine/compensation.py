"""Sagas: undoing a failed run's completed steps, newest first, one at a time.

When a run that compensates fails (a task failed beyond its retries, a timeout ended it, a
TERMINATE said FAILED) or is terminated with ``compensate``, it becomes COMPENSATING instead of
ending. Its active tasks are canceled and the *plan* is fixed: every completed step that
declares a ``compensation`` — inside fork branches, loop iterations, switch cases and routing
slips too — in reverse completion order ``(end_at, seq)``. The compensations then run one at a
time, since an undo may depend on a later step's undo having happened (refund before release).

Each compensation is a task of its own (``<ref>__compensate``), retried under its TaskDef like
any task, with the idempotency key ``<runId>:compensate:<ref>`` shared by all its attempts. The
run ends COMPENSATED when all are done, or COMPENSATION_FAILED when one fails beyond its
retries; a retry of the run then retries that compensation and carries on with the walk.

The run's ``compensation`` record holds the plan and how each step went.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from podium.dsl import expressions, walk
from podium.dsl.models import TaskType, WorkflowTask
from podium.engine.context import expression_context, task_context
from podium.engine.events import CancelTimer
from podium.engine.secret_refs import secret_note
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.engine.timing import WORKFLOW_TIMEOUT_KEY

if TYPE_CHECKING:
    from podium.engine.decider import Decider

__all__ = [
    "COMPENSATES",
    "FAILED_ENDINGS",
    "advance",
    "begin",
    "enabled",
    "idempotency_key",
    "is_compensation",
    "resumable",
    "resume",
    "takes_over",
]

COMPENSATES = "compensates"
"""Key of a compensation task's step JSON naming the reference of the step it undoes."""

FAILED_ENDINGS = frozenset(
    {RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.COMPENSATED, RunStatus.COMPENSATION_FAILED}
)
"""How a run may end that starts its definition's failureWorkflow."""

_SUFFIX = "__compensate"
_FAILURES = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})
_DONE = frozenset({str(TaskStatus.COMPLETED), str(TaskStatus.COMPLETED_WITH_ERRORS)})
_OUTSIDE_EFFECTS = frozenset(
    {TaskType.SIMPLE, TaskType.HTTP, TaskType.SUB_WORKFLOW, TaskType.START_WORKFLOW, TaskType.HUMAN}
)
"""Types whose completed steps may have changed something outside the run; only these are
listed as not compensated when they declare no compensation."""


def enabled(d: Decider) -> bool:
    """Whether a failure of this run compensates rather than ends it."""
    definition = d.blueprint.definition
    if definition.compensateOnFailure is not None:
        return definition.compensateOnFailure
    return any(
        step.compensation is not None or step.type == TaskType.ROUTING_SLIP
        for step in walk.steps(definition.tasks)
    )


def is_compensation(task: TaskState) -> bool:
    return task.dynamic_step is not None and COMPENSATES in task.dynamic_step


def idempotency_key(run_id: str, compensated_ref: str) -> str:
    """The same for every attempt of one step's compensation, and across a resume."""
    return f"{run_id}:compensate:{compensated_ref}"


def takes_over(d: Decider, status: RunStatus, reason: str | None, failed: TaskState | None) -> bool:
    """Whether ending the run with ``status`` becomes (or ends) compensation instead."""
    current = d.state.status
    if current == RunStatus.COMPENSATING and status in _FAILURES:
        _give_up(d, failed, reason)
        return True
    if status in _FAILURES and current in (RunStatus.RUNNING, RunStatus.PAUSED) and enabled(d):
        begin(d, status, reason)
        return True
    return False


def begin(d: Decider, trigger: RunStatus, reason: str | None) -> None:
    """Stop the run's forward progress and fix the plan of what to undo."""
    state = d.state
    if state.status == RunStatus.COMPENSATING:
        return  # already undoing its steps (terminated with compensate twice)
    d.cancel_active()
    # Once per run, when the saga begins: the plan needs every completed task.
    completed = sorted(
        (
            t
            for t in state.tasks
            if t.status == TaskStatus.COMPLETED and t.is_latest and not is_compensation(t)
        ),
        key=lambda t: (t.end_at or 0, t.seq),
        reverse=True,
    )
    steps: list[dict[str, Any]] = []
    without: list[str] = []
    for task in completed:
        undo = d.step_of(task).compensation
        if undo is None:
            if task.type in _OUTSIDE_EFFECTS:
                without.append(task.ref)
            continue
        steps.append(
            {
                "referenceTaskName": task.ref,
                "compensationTaskReferenceName": task.ref + _SUFFIX,
                "name": undo.name,
                "type": undo.type,
                "idempotencyKey": idempotency_key(state.run_id, task.ref),
                "status": "PENDING",
                "taskId": None,
                "attempts": 0,
                "output": {},
                "reasonForIncompletion": None,
                "startTime": 0,
                "endTime": 0,
            }
        )
    state.compensation = {
        "trigger": str(trigger),
        "reason": reason,
        "failedReferenceTaskNames": list(state.failed_refs),
        "startTime": d.now,
        "endTime": 0,
        "steps": steps,
        "notCompensated": without,
    }
    state.status = RunStatus.COMPENSATING
    state.reason = reason
    if d.blueprint.definition.timeoutSeconds > 0:
        # The run's own deadline is over; each compensation has its TaskDef's timeouts.
        d.commands.append(CancelTimer(WORKFLOW_TIMEOUT_KEY))


def resumable(state: RunState) -> bool:
    """Whether a retry of the run resumes its compensation: one failed, or the run was
    terminated while compensating."""
    record = state.compensation
    if state.status == RunStatus.COMPENSATION_FAILED:
        return True
    return state.status == RunStatus.TERMINATED and record is not None and not record["endTime"]


def resume(d: Decider) -> None:
    """Retry the compensation that failed, then go on with the rest of the plan."""
    state = d.state
    record = state.compensation = {**(state.compensation or {"steps": []}), "endTime": 0}
    # An operator's retry, rare: walking back over the tasks is fine here.
    failed = next(
        (
            t
            for t in reversed(state.tasks)
            if is_compensation(t) and t.is_latest and not t.status.is_success
        ),
        None,
    )
    state.status = RunStatus.COMPENSATING
    state.reason = record.get("reason")
    state.end_at = None
    state.failed_refs = list(record.get("failedReferenceTaskNames") or [])
    if failed is not None:
        d.schedule(d.step_of(failed), retry_of=failed, immediate=True)
    # No failed task (the workflow timed out between compensations): advance() goes on.


def advance(d: Decider) -> None:
    """Bring the record up to date; start the next compensation or end the run."""
    state = d.state
    record = copy.deepcopy(state.compensation or {"steps": []})
    state.compensation = record
    for entry in record["steps"]:
        if entry["status"] in _DONE:
            continue
        task = state.latest(entry["compensationTaskReferenceName"])
        if task is None:
            task = _start(d, entry["referenceTaskName"])
        if task is None:  # the step is gone (keepLastN dropped it): nothing left to undo
            entry["status"] = str(TaskStatus.SKIPPED)
            continue
        _record(entry, task)
        if task.status.is_active or not task.status.is_success:
            return  # running; or failed for good, and the run has already ended for it
    record["endTime"] = d.now
    d.end(RunStatus.COMPENSATED, record.get("reason"))


def _start(d: Decider, ref: str) -> TaskState | None:
    original = d.state.latest(ref)
    if original is None:
        return None
    undo = d.step_of(original).compensation
    assert undo is not None  # the plan only lists steps that declare one
    spec = undo.to_json()
    spec["taskReferenceName"] = ref + _SUFFIX
    spec[COMPENSATES] = ref
    spec.pop("inputParameters", None)
    # A walk over the tasks, once per undo step of a saga: compensation is the rare path.
    context = expression_context(d.state)
    context["compensated"] = context.get(ref) or {}
    params = undo.inputParameters
    if undo.taskDefinition is not None:
        params = undo.taskDefinition.under_template(params)
    resolved = expressions.resolve(params, task_context(context, d.next_task_id()))
    task_input = resolved if isinstance(resolved, dict) else {"value": resolved}
    # The undo step is the definition's own, so its HTTP call may use secrets.
    secrets = secret_note(params, task_input, context) if undo.type == TaskType.HTTP else None
    return d.schedule(
        WorkflowTask.model_validate(spec), dynamic=spec, task_input=task_input, secrets=secrets
    )


def _record(entry: dict[str, Any], task: TaskState) -> None:
    entry["taskId"] = task.task_id
    entry["status"] = str(task.status)
    entry["attempts"] = task.retry_count + 1
    entry["output"] = task.output
    entry["reasonForIncompletion"] = task.reason
    entry["startTime"] = entry["startTime"] or task.start_at or task.scheduled_at
    entry["endTime"] = task.end_at or 0


def _give_up(d: Decider, failed: TaskState | None, reason: str | None) -> None:
    """A compensation failed beyond its retries (or the run timed out): name who and why."""
    state = d.state
    record = copy.deepcopy(state.compensation or {"steps": []})
    state.compensation = record
    if failed is None or not is_compensation(failed):
        message = f"compensation stopped: {reason or 'no reason given'}"
    else:
        for entry in record["steps"]:
            if entry["compensationTaskReferenceName"] == failed.ref:
                _record(entry, failed)
        step = d.step_of(failed)
        service = step.service or d.task_def(step).service
        who = f"service {service}" if service else "no service named on its TaskDef"
        message = (
            f"compensation '{failed.ref}' ({failed.name}) of task "
            f"'{(failed.dynamic_step or {}).get(COMPENSATES)}' {failed.status} after "
            f"{failed.retry_count + 1} attempt(s) [{who}]: {failed.reason or 'no reason given'}"
        )
    record["endTime"] = d.now
    d.end(RunStatus.COMPENSATION_FAILED, message)
