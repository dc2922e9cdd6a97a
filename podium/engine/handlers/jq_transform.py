"""JSON_JQ_TRANSFORM: run in the decision when the query is quick, on the server's queue if
not (see engine/jq_step.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import WorkflowTask
from podium.engine import jq_step
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["JqTransformHandler", "run_jq"]


def run_jq(d: DecisionContext, task: TaskState, step: WorkflowTask) -> None:
    task = d.state.edit(task)  # this decision's own to change
    limits = d.blueprint.limits
    if d.jq_queries >= jq_step.INLINE_PER_DECISION:
        d.enqueue(task, step, jq_step.JQ_QUEUE)
        return
    d.jq_queries += 1
    inline_ms = min(jq_step.INLINE_MS, limits.jq_time_limit_ms)
    outcome = jq_step.jq_outcome(task.input, inline_ms, limits.max_json_depth)
    if outcome.timed_out and inline_ms < limits.jq_time_limit_ms:
        d.enqueue(task, step, jq_step.JQ_QUEUE)
        return
    if outcome.output:
        task.output = outcome.output
    if outcome.status == TaskStatus.COMPLETED:
        d.finish(task, TaskStatus.COMPLETED)
    else:
        d.fail(task, outcome.status, outcome.reason)


class JqTransformHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_jq(d, task, step)
