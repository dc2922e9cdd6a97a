"""What an event says about one task: a worker's result or progress, a timer that fired, a
task's timeout and a child run's end. Each records the news on the task and finishes or fails
it; the decider then advances the run from there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import TaskTimeoutPolicy
from podium.engine.events import ChildFinished, Dequeue, TaskProgress, TaskResult, TerminateChild
from podium.engine.handlers.registry import REGISTRY
from podium.engine.state import RunStatus, TaskState, TaskStatus
from podium.engine.timing import WORKFLOW_TIMEOUT_KEY
from podium.errors import PodiumError, TaskAlreadyFinishedError, TaskNotFoundError

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["child_finished", "task_progress", "task_result", "timer_fired"]


def _active_task(d: DecisionContext, task_id: str) -> TaskState:
    """The task ``task_id``, this decision's own to change; it must be active."""
    task = d.state.task(task_id)
    if task is None:
        raise TaskNotFoundError(f"no task {task_id} in workflow {d.state.run_id}")
    if not task.status.is_active:
        raise TaskAlreadyFinishedError(
            f"task {task_id} ({task.ref}) already ended as {task.status}",
            service="engine",
        )
    return d.state.edit(task)


def task_result(d: DecisionContext, event: TaskResult) -> None:
    task = _active_task(d, event.task_id)
    if event.status.is_active:
        raise PodiumError(f"a result must end the task, not leave it {event.status}")
    task.start_at = task.start_at or event.started_at or d.now
    task.worker_id = event.worker_id or task.worker_id
    task.poll_count = max(task.poll_count, event.poll_count)
    task.logs = task.logs + list(event.logs)
    task.output = event.output
    task.reason = event.reason
    d.clear_task_timers(task)
    if task.queue is not None:
        d.commands.append(Dequeue(task.task_id))
        if REGISTRY.handler(task.type).keeps_open(d, task, event.status):
            return
    if event.status.is_success:
        d.finish(task, event.status)
    else:
        d.fail(task, event.status, event.reason)


def task_progress(d: DecisionContext, event: TaskProgress) -> None:
    task = _active_task(d, event.task_id)
    task.status = TaskStatus.IN_PROGRESS
    task.start_at = task.start_at or event.started_at or d.now
    task.worker_id = event.worker_id or task.worker_id
    task.poll_count = max(task.poll_count, event.poll_count)
    task.callback_after_s = event.callback_after_s
    task.update_at = d.now
    if event.output:
        task.output = event.output
    task.logs = task.logs + list(event.logs)


def timer_fired(d: DecisionContext, key: str) -> None:
    if key == WORKFLOW_TIMEOUT_KEY:
        if not d.state.status.is_terminal:
            timeout_s = d.blueprint.definition.timeoutSeconds
            if d.blueprint.definition.timeoutPolicy == "TIME_OUT_WF":
                d.end(RunStatus.TIMED_OUT, f"workflow timed out after {timeout_s}s")
        return
    kind, _, task_id = key.partition(":")
    task = d.state.task(task_id)
    if task is None or not task.status.is_active:
        return  # the timer lost a race with a result; nothing to do
    # A "loop:" timer only wakes the run: advance() below takes the DO_WHILE up again.
    if kind == "wait":
        d.finish(task, TaskStatus.COMPLETED)
    elif kind == "task-timeout":
        _task_timed_out(d, task)


def _task_timed_out(d: DecisionContext, task: TaskState) -> None:
    task = d.state.edit(task)
    task_def = d.task_def(d.step_of(task))
    reason = f"task {task.ref} timed out after {task_def.timeoutSeconds}s"
    if task_def.timeoutPolicy == TaskTimeoutPolicy.ALERT_ONLY:
        task.logs = [
            *task.logs,
            {"log": reason, "taskId": task.task_id, "createdTime": d.now},
        ]
        return
    if task.queue is not None:
        d.commands.append(Dequeue(task.task_id))
    if task.sub_workflow_id is not None:
        d.commands.append(TerminateChild(task.sub_workflow_id, reason))
    task.reason = reason
    if task_def.timeoutPolicy == TaskTimeoutPolicy.TIME_OUT_WF:
        task.status = TaskStatus.TIMED_OUT
        task.end_at = d.now
        d.end(RunStatus.TIMED_OUT, reason, failed=task)
    else:
        d.fail(task, TaskStatus.TIMED_OUT, reason)


def child_finished(d: DecisionContext, event: ChildFinished) -> None:
    task = d.state.task(event.task_id)
    if task is None or not task.status.is_active:
        return  # the parent moved on (terminated, timed out): the child's end changes nothing
    task = d.state.edit(task)
    task.output = {**event.output, "subWorkflowId": event.child_run_id}
    d.clear_task_timers(task)
    if event.child_status == RunStatus.COMPLETED:
        d.finish(task, TaskStatus.COMPLETED)
    else:
        reason = f"sub-workflow {event.child_run_id} {event.child_status}: {event.reason}"
        d.fail(task, TaskStatus.FAILED, reason)
