"""HTTP: a call the server's own HTTP executor makes, handed to it on ``HTTP_QUEUE``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import WorkflowTask
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["HTTP_QUEUE", "HttpHandler"]

HTTP_QUEUE = "_podium.http"
"""The queue the server's own HTTP executor polls; workers never see it."""


class HttpHandler(TaskHandler):
    outside_effects = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        d.enqueue(task, step, HTTP_QUEUE)
