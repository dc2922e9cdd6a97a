"""What every new task is checked against before its handler starts it, and the depth
check the handlers of script results share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.dsl.nesting import deeper_than, render_path
from podium.engine.state import RunStatus, TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["past_depth", "refuse_deep_input", "refuse_past_task_limit"]


def past_depth(d: DecisionContext, what: str, value: Any) -> str | None:
    """Why ``value`` may not be kept in the run, or None: nested past the depth limit, it
    would make the run's document too deep to be written, and every later step with it."""
    limit = d.blueprint.limits.max_json_depth
    path = deeper_than(value, limit)
    if path is None:
        return None
    return (
        f"{render_path(what, path)} is past the limit of {limit} levels of nested objects and "
        "arrays (PODIUM_MAX_JSON_DEPTH)"
    )


def refuse_past_task_limit(d: DecisionContext, task: TaskState) -> bool:
    """End the run FAILED if ``task`` is one more than a run may hold; the task says why.

    The run ends rather than the task failing: an optional step or a retry would only go on
    to schedule more."""
    task = d.state.edit(task)  # this decision's own to change
    limit = d.blueprint.limits.max_tasks_per_run
    if len(d.state.tasks) <= limit:
        return False
    reason = (
        f"task '{task.ref}' would be task {len(d.state.tasks)} of the run; "
        f"the limit is {limit} (PODIUM_MAX_TASKS_PER_RUN)"
    )
    task.status = TaskStatus.FAILED_WITH_TERMINAL_ERROR
    task.reason = reason
    task.end_at = d.now
    task.advanced = True
    d.end(RunStatus.FAILED, reason, failed=task)
    return True


def refuse_deep_input(d: DecisionContext, task: TaskState) -> bool:
    """Fail ``task`` if its resolved input nests too deep (templates nest values further)."""
    task = d.state.edit(task)  # this decision's own to change
    reason = past_depth(d, "input", task.input)
    if reason is None:
        return False
    task.input = {}
    d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, reason)
    return True
