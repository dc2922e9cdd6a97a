"""EXCLUSIVE_JOIN: Conductor's join after a switch, which takes the output of the one branch
that ran.

It follows a SWITCH (or DECISION) whose cases end in the tasks of ``joinOn``. The first of
those that was scheduled in this run is the one it joins; when none was (the default case
ran), the first scheduled of ``defaultExclusiveJoinTask``. Once that task has ended, the join
completes with its output, or fails with its reason. Inside a DO_WHILE each reference name is
looked up in the join's own iteration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import WorkflowTask
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["ExclusiveJoinHandler", "check_exclusive_join", "start_exclusive_join"]


def start_exclusive_join(d: DecisionContext, task: TaskState, step: WorkflowTask) -> None:
    """Record what the join waits for as its input, as Conductor does, and start waiting."""
    task = d.state.edit(task)  # this decision's own to change
    joined: dict[str, list[str]] = {"joinOn": list(step.joinOn)}
    if step.defaultExclusiveJoinTask is not None:
        joined["defaultExclusiveJoinTask"] = list(step.defaultExclusiveJoinTask)
    task.input = {**task.input, **joined}
    task.status = TaskStatus.IN_PROGRESS
    task.start_at = d.now


def check_exclusive_join(d: DecisionContext, task: TaskState) -> bool:
    """Finish ``task`` if the branch task it joins has ended; whether it did."""
    step = d.step_of(task)
    joined = _first_scheduled(d, task, step.joinOn)
    if joined is None:
        joined = _first_scheduled(d, task, step.defaultExclusiveJoinTask or [])
    if joined is None or joined.status.is_active:
        return False
    if joined.status.is_success:
        task = d.state.edit(task)
        task.output = dict(joined.output)
        d.finish(task, TaskStatus.COMPLETED)
    else:
        d.fail(task, TaskStatus.FAILED, joined.reason or f"task '{joined.ref}' {joined.status}")
    return True


def _first_scheduled(d: DecisionContext, join: TaskState, refs: list[str]) -> TaskState | None:
    """The latest attempt of the first of ``refs`` this run scheduled (and did not skip)."""
    for ref in refs:
        found = d.state.latest(ref + join.suffix)
        if found is not None and found.status != TaskStatus.SKIPPED:
            return found
    return None


class ExclusiveJoinHandler(TaskHandler):
    waits_on_others = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        start_exclusive_join(d, task, step)

    def check(self, d: DecisionContext, task: TaskState) -> bool:
        return check_exclusive_join(d, task)
