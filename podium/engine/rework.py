"""Operator actions that rewrite a run's history: rerun from a task, skip a step, task logs,
variables.

Kept apart from the decider, which they use: each takes the decision of the event being
applied (``DecisionContext``) and changes its state and commands as the task types' handlers
do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import TaskType
from podium.engine import compensation
from podium.engine.events import (
    AddTaskLog,
    Dequeue,
    RerunRun,
    SkipTask,
    StartTimer,
    TerminateChild,
    UpdateVariables,
)
from podium.engine.handlers import join
from podium.engine.handlers.do_while import inside
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.engine.timing import WORKFLOW_TIMEOUT_KEY
from podium.errors import ConflictError, TaskNotFoundError, ValidationError

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = [
    "add_task_log",
    "reopen",
    "rerun",
    "restart_run",
    "retry_run",
    "skip",
    "take_pending_skip",
    "update_variables",
]


def _rerun_target(state: RunState, task_id: str) -> TaskState | None:
    found = state.task(task_id)
    # A reference name is accepted too: it names the step's latest attempt.
    return found if found is not None else state.latest(task_id)


def rerun(decider: DecisionContext, event: RerunRun) -> None:
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
        restart_run(decider)
        return
    target = _rerun_target(state, event.task_id)
    if target is None:
        raise TaskNotFoundError(
            f"workflow {state.run_id} has no task {event.task_id}",
            service="engine",
            field="reRunFromTaskId",
        )
    # A rerun, retry or restart is an operator's rare act: walking every task is fine here.
    state.remove_tasks(lambda task: task.seq >= target.seq)
    reopen(decider)
    for task in list(state.tasks):
        if task.ref == target.ref:
            task = state.edit(task)
            task.retried = True  # the attempt about to be scheduled is the latest
    _reopen_loops(state, target)
    decider.schedule(
        decider.step_of(target),
        within=target,
        dynamic=target.dynamic_step,
        task_input=event.task_input,
    )
    _reopen_joins(decider)
    _schedule_dropped_successors(decider)


def _reopen_loops(state: RunState, target: TaskState) -> None:
    """A DO_WHILE around the rerun task goes on from the iteration the task was in. (A walk
    over the tasks, as the rest of a rerun: rare, never on an event's path.)"""
    for loop in list(state.tasks):
        if loop.type != TaskType.DO_WHILE or not loop.is_latest or not inside(target, loop):
            continue
        iteration = target.scope_iterations[len(loop.scope_loops)]
        loop = state.edit(loop)
        loop.status = TaskStatus.IN_PROGRESS
        loop.end_at = None
        loop.advanced = False
        loop.iteration = iteration
        loop.output = {
            key: value
            for key, value in loop.output.items()
            if not (key.isdigit() and int(key) >= iteration)
        } | {"iteration": iteration}


def _reopen_joins(decider: DecisionContext) -> None:
    """A JOIN kept from before the rerun waits again if a branch it joins was dropped (a
    walk over the tasks: reruns only)."""
    state = decider.state
    for task in list(state.tasks):
        if task.type != TaskType.JOIN or not task.is_latest or task.status.is_active:
            continue
        joined = [state.latest(ref) for ref in join.join_refs(decider, task)]
        if all(t is not None and t.status.is_success for t in joined):
            continue
        task = state.edit(task)
        task.status = TaskStatus.IN_PROGRESS
        task.end_at = None
        task.output = {}
        task.advanced = False


def _schedule_dropped_successors(decider: DecisionContext) -> None:
    """Steps whose tasks were dropped although what precedes them was kept (parallel fork
    branches scheduled after the rerun task) are scheduled again."""
    state = decider.state
    for task in list(state.tasks):
        if state.status != RunStatus.RUNNING:
            return
        if not (task.advanced and task.is_latest and task.status.is_success):
            continue
        if task.dynamic_step is not None or task.type == TaskType.FORK_JOIN_DYNAMIC:
            continue  # their branches are made at run time: the rerun keeps or redoes them whole
        for step in decider.successors_of(task):
            if state.latest(step.taskReferenceName + task.suffix) is None:
                decider.schedule(step, within=task)


def skip(decider: DecisionContext, event: SkipTask) -> None:
    """Skip a step: an active task ends SKIPPED now; a step not reached yet will be."""
    state = decider.state
    if state.status != RunStatus.RUNNING:
        raise ConflictError(
            f"cannot skip a task of workflow {state.run_id}: it is {state.status}",
            service="engine",
            code="E_RUN_STATUS",
        )
    known = event.ref in decider.blueprint.locations or state.latest(event.ref) is not None
    if not known:
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
    decider.clear_task_timers(task)
    _mark_skipped(decider, task, event.input, event.output)


def take_pending_skip(decider: DecisionContext, task: TaskState) -> bool:
    """Whether ``task``, just scheduled, was asked to be skipped (it then is)."""
    skips = decider.state.skips
    pending = skips.pop(task.ref, None) or skips.pop(task.def_ref, None)
    if pending is None:
        return False
    _mark_skipped(decider, task, pending.get("input", {}), pending.get("output", {}))
    return True


def _mark_skipped(
    decider: DecisionContext,
    task: TaskState,
    task_input: dict[str, object],
    output: dict[str, object],
) -> None:
    task = decider.state.edit(task)
    if task_input:
        task.input = {**task.input, **task_input}
    task.output = dict(output)
    task.reason = "skipped by request"
    task.status = TaskStatus.SKIPPED
    task.start_at = task.start_at or decider.now
    task.end_at = task.update_at = decider.now


def add_task_log(decider: DecisionContext, event: AddTaskLog) -> None:
    task = decider.state.task(event.task_id)
    if task is None:
        raise TaskNotFoundError(
            f"no task {event.task_id} in workflow {decider.state.run_id}", service="engine"
        )
    entry = {"log": event.log, "taskId": event.task_id, "createdTime": event.now}
    task = decider.state.edit(task)
    task.logs = [*task.logs, entry]


def update_variables(decider: DecisionContext, event: UpdateVariables) -> None:
    state = decider.state
    if state.status.is_terminal:
        raise ConflictError(
            f"workflow {state.run_id} already ended as {state.status}: its variables are final",
            service="engine",
            code="E_RUN_ENDED",
        )
    state.variables = {**state.variables, **event.variables}


def retry_run(decider: DecisionContext) -> None:
    """Retry a failed run from its failed steps, or resume a saga's failed compensation."""
    state = decider.state
    if compensation.resumable(state):
        compensation.resume(decider)
        return
    if state.status not in (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.TERMINATED):
        raise ConflictError(
            f"only a failed, timed-out or terminated workflow can be retried; "
            f"{state.run_id} is {state.status}",
            service="engine",
            code="E_RUN_STATUS",
        )
    # Retrying is an operator's rare act: walking every task is fine here.
    failed = [
        t for t in state.tasks if t.is_latest and not t.status.is_success and not t.status.is_active
    ]
    reopen(decider)
    for task in failed:
        decider.schedule(decider.step_of(task), retry_of=task, immediate=True)
    # Nothing failed (terminated between steps, e.g. while paused): the steps whose
    # successors were held still have ``advanced`` unset, so advance() carries on from them.


def reopen(decider: DecisionContext) -> None:
    """An ended run runs again (retry, rerun): it is RUNNING with its timeout re-armed."""
    state = decider.state
    state.status = RunStatus.RUNNING
    state.reason = None
    state.end_at = None
    state.failed_refs = []
    state.skips = {}
    timeout_s = decider.blueprint.definition.timeoutSeconds
    if timeout_s > 0:  # ended runs cancel it; as in Conductor it counts again from the retry
        decider.commands.append(StartTimer(WORKFLOW_TIMEOUT_KEY, decider.now + timeout_s * 1000))


def restart_run(decider: DecisionContext) -> None:
    """Run an ended run again from the start, on the same definition."""
    state = decider.state
    if not state.status.is_terminal:
        raise ConflictError(
            f"only an ended workflow can be restarted; {state.run_id} is {state.status}",
            service="engine",
            code="E_RUN_STATUS",
        )
    state.remove_tasks(lambda task: True)
    state.output = {}
    state.reason = None
    state.end_at = None
    state.failed_refs = []
    state.variables = {}
    state.skips = {}
    state.compensation = None
    state.restarts += 1
    decider.begin()
