"""SIMPLE: a task a worker runs, handed out on the queue named for the step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import WorkflowTask
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["SimpleHandler"]


class SimpleHandler(TaskHandler):
    worker_defaults = True
    outside_effects = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        d.enqueue(task, step, step.name)
