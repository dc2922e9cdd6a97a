"""Operator actions that rewrite a run's history: rerun from a task, skip a step, task logs,
variables.

Kept apart from the decider, which they use: each takes the decider of the event being
applied and changes its state and commands the same way the decider's own handlers do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import TaskType
from podium.engine.events import (
    AddTaskLog,
    Dequeue,
    RerunRun,
    SkipTask,
    TerminateChild,
    UpdateVariables,
)
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.errors import ConflictError, TaskNotFoundError, ValidationError

if TYPE_CHECKING:
    from podium.engine.decider import _Decider

__all__ = ["add_task_log", "rerun", "skip", "take_pending_skip", "update_variables"]


def _rerun_target(state: RunState, task_id: str) -> TaskState | None:
    found = state.task(task_id)
    # A reference name is accepted too: it names the step's latest attempt.
    return found if found is not None else state.latest(task_id)


def rerun(decider: _Decider, event: RerunRun) -> None:
    """Conductor's rerun: drop the task and everything scheduled after it, then go on."""
    state = decider.state
    if not state.status.is_terminal:
        raise ConflictError(
            f"only an ended workflow can be rerun; {state.run_id} is {state.status}",
            service="engine",
            code="E_RUN_STATUS",
        )
    if event.workflow_input is not None:
        state.input = dict(event.workflow_input)
    if event.task_id is None:
        decider._restart_run()
        return
    target = _rerun_target(state, event.task_id)
    if target is None:
        raise TaskNotFoundError(
            f"workflow {state.run_id} has no task {event.task_id}",
            service="engine",
            field="reRunFromTaskId",
        )
    state.tasks = [task for task in state.tasks if task.seq < target.seq]
    decider._reopen()
    for task in state.tasks:
        if task.ref == target.ref:
            task.retried = True  # the attempt about to be scheduled is the latest
    step = decider.blueprint.task(target.ref)
    decider._schedule(step, task_input=event.task_input)
    _reopen_joins(decider)
    _schedule_dropped_successors(decider)


def _reopen_joins(decider: _Decider) -> None:
    """A JOIN kept from before the rerun waits again if a branch it joins was dropped."""
    state = decider.state
    for task in state.tasks:
        if task.type != TaskType.JOIN or not task.is_latest or task.status.is_active:
            continue
        joined = [state.latest(ref) for ref in decider.blueprint.task(task.ref).joinOn]
        if all(t is not None and t.status.is_success for t in joined):
            continue
        task.status = TaskStatus.IN_PROGRESS
        task.end_at = None
        task.output = {}
        task.advanced = False


def _schedule_dropped_successors(decider: _Decider) -> None:
    """Steps whose tasks were dropped although what precedes them was kept (parallel fork
    branches scheduled after the rerun task) are scheduled again."""
    state = decider.state
    for task in list(state.tasks):
        if state.status != RunStatus.RUNNING:
            return
        if not (task.advanced and task.is_latest and task.status.is_success):
            continue
        selected = str(task.output.get("selectedCase")) if task.type == TaskType.SWITCH else None
        for step in decider.blueprint.successors(task.ref, selected):
            if state.latest(step.taskReferenceName) is None:
                decider._schedule(step)


def skip(decider: _Decider, event: SkipTask) -> None:
    """Skip a step: an active task ends SKIPPED now; a step not reached yet will be."""
    state = decider.state
    if state.status != RunStatus.RUNNING:
        raise ConflictError(
            f"cannot skip a task of workflow {state.run_id}: it is {state.status}",
            service="engine",
            code="E_RUN_STATUS",
        )
    if event.ref not in decider.blueprint.locations:
        raise ValidationError(
            f"workflow {state.name} has no task with reference name '{event.ref}'",
            service="engine",
            field="taskReferenceName",
        )
    task = state.latest(event.ref)
    if task is None:
        state.skips[event.ref] = {"input": dict(event.input), "output": dict(event.output)}
        return
    if not task.status.is_active:
        raise ConflictError(
            f"task '{event.ref}' of workflow {state.run_id} already ended as {task.status}",
            service="engine",
            code="E_TASK_ENDED",
        )
    if task.queue is not None:
        decider.commands.append(Dequeue(task.task_id))
    if task.sub_workflow_id is not None:
        decider.commands.append(TerminateChild(task.sub_workflow_id, "task skipped"))
    decider._clear_task_timers(task)
    _mark_skipped(decider, task, event.input, event.output)


def take_pending_skip(decider: _Decider, task: TaskState) -> bool:
    """Whether ``task``, just scheduled, was asked to be skipped (it then is)."""
    pending = decider.state.skips.pop(task.ref, None)
    if pending is None:
        return False
    _mark_skipped(decider, task, pending.get("input", {}), pending.get("output", {}))
    return True


def _mark_skipped(
    decider: _Decider, task: TaskState, task_input: dict[str, object], output: dict[str, object]
) -> None:
    if task_input:
        task.input = {**task.input, **task_input}
    task.output = dict(output)
    task.reason = "skipped by request"
    task.status = TaskStatus.SKIPPED
    task.start_at = task.start_at or decider.now
    task.end_at = task.update_at = decider.now


def add_task_log(decider: _Decider, event: AddTaskLog) -> None:
    task = decider.state.task(event.task_id)
    if task is None:
        raise TaskNotFoundError(
            f"no task {event.task_id} in workflow {decider.state.run_id}", service="engine"
        )
    entry = {"log": event.log, "taskId": event.task_id, "createdTime": event.now}
    task.logs = [*task.logs, entry]


def update_variables(decider: _Decider, event: UpdateVariables) -> None:
    state = decider.state
    if state.status.is_terminal:
        raise ConflictError(
            f"workflow {state.run_id} already ended as {state.status}: its variables are final",
            service="engine",
            code="E_RUN_ENDED",
        )
    state.variables = {**state.variables, **event.variables}
