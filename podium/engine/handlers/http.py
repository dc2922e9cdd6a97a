"""HTTP: a call the server's own HTTP executor makes, handed to it on ``HTTP_QUEUE``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.http_request import async_complete
from podium.dsl.models import WorkflowTask
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["HTTP_QUEUE", "HttpHandler"]

HTTP_QUEUE = "_podium.http"
"""The queue the server's own HTTP executor polls; workers never see it."""


class HttpHandler(TaskHandler):
    outside_effects = True
    uses_secrets = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        d.enqueue(task, step, HTTP_QUEUE)

    def keeps_open(self, d: DecisionContext, task: TaskState, status: TaskStatus) -> bool:
        """A call with ``asyncComplete`` answered 2xx: the task keeps the response as its
        output and stays IN_PROGRESS, out of every queue, until completed through the API
        (or by an event handler), as Conductor's HTTP task does."""
        if status != TaskStatus.COMPLETED:
            return False
        if not async_complete(task.input, d.step_of(task).asyncComplete):
            return False
        # Out of the queue, so that the completion that follows (which has none) ends the task.
        task = d.state.edit(task)
        task.queue = None
        task.status = TaskStatus.IN_PROGRESS
        task.update_at = d.now
        return True
