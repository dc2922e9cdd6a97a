"""Posting one result by itself: ``update-v2``, or v1 ``POST /api/tasks``, with retries.

What the server's answer about one result means is decided here, for results posted alone
and for those answered inside a batch (``result_batch``): a task that is gone or leased to
another worker drops its result, an output too big to store fails the task instead, and
trouble on the server's side is retried until ``update_retry_seconds`` have passed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from podium.resilience.backoff import Backoff
from podium.worker.execution import TaskResult
from podium.worker.task import Task
from podium.worker.transport import HttpResponse, HttpTransport, TransportError, error_text

__all__ = [
    "JSON_HEADERS",
    "ResultPoster",
    "is_retryable",
    "is_task_gone",
    "next_task",
    "too_large",
]

logger = logging.getLogger("podium.worker")

JSON_HEADERS = {"content-type": "application/json"}
# 404 codes that mean "this task is unknown", as opposed to "this route is unknown" (an old
# server without update-v2): the first drops the result, the second switches to v1.
_TASK_GONE_CODES = frozenset({"E_TASK_NOT_FOUND", "E_WORKFLOW_NOT_FOUND"})


def is_task_gone(status: int) -> bool:
    """The task is unknown, already finished or leased to another worker: drop the result."""
    return status in (404, 409)


def is_retryable(status: int) -> bool:
    """The server could not record the result now, but may in a moment."""
    return status in (408, 425, 429) or status >= 500


def next_task(body: Any) -> dict[str, Any] | None:
    """The task the server handed back with a result, if it is one."""
    return body if isinstance(body, dict) and body.get("taskId") else None


def too_large(result: TaskResult, message: str) -> TaskResult:
    """A retryable failure in place of a result whose output the server will not store,
    rather than leave the task to time out."""
    body = result.body
    task = Task.from_json(
        {
            "taskId": body["taskId"],
            "workflowInstanceId": body["workflowInstanceId"],
            "leaseToken": body.get("leaseToken"),
        }
    )
    return TaskResult.build(
        task,
        str(body["workerId"]),
        "FAILED",
        reason=f"the task's output was refused by the server: {message}",
    )


def _answered_task(response: HttpResponse) -> dict[str, Any] | None:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return next_task(response.json())
    except ValueError:
        return None


class ResultPoster:
    """Posts results one request each, for a runner that is open on a server."""

    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self.use_v2 = True
        self._client: HttpTransport | None = None
        self._stopping: asyncio.Event | None = None

    def open(self, client: HttpTransport, stopping: asyncio.Event) -> None:
        self._client, self._stopping = client, stopping

    def close(self) -> None:
        self._client = self._stopping = None

    @property
    def client(self) -> HttpTransport:
        if self._client is None:
            # Not a TransportError: there is no point in trying again.
            raise RuntimeError("results can be posted only while the runner runs")
        return self._client

    @property
    def stopping(self) -> bool:
        """While the runner stops, results go to v1 so that the server hands out no new work."""
        return self._stopping is not None and self._stopping.is_set()

    async def post(
        self, result: TaskResult, traceparent: str | None = None, deadline: float | None = None
    ) -> dict[str, Any] | None:
        """Post ``result``; return the next task the server handed back, if any.

        A 409 (lease lost, task already finished) drops the result; 5xx and connection errors
        are retried with backoff until ``deadline`` (``retry_seconds`` from now).
        """
        if deadline is None:
            deadline = time.monotonic() + self.retry_seconds
        backoff = Backoff(0.1, 5.0)
        attempts = 0
        headers = {**JSON_HEADERS, "traceparent": traceparent} if traceparent else JSON_HEADERS
        while True:
            attempts += 1
            v2 = self.use_v2 and not self.stopping
            path = "/api/tasks/update-v2" if v2 else "/api/tasks"
            try:
                response = await self.client.post(path, content=result.content, headers=headers)
            except TransportError as exc:
                problem = f"{type(exc).__name__}: {exc.message}"
            else:
                status = response.status_code
                if status < 300:
                    if attempts > 1:
                        logger.warning("posted result of task %s", result.task_id)
                    return _answered_task(response) if v2 else None
                code, message = error_text(response)
                if v2 and (status == 405 or (status == 404 and code not in _TASK_GONE_CODES)):
                    logger.warning(
                        "server has no update-v2 (HTTP %d); using POST /api/tasks", status
                    )
                    self.use_v2 = False
                    continue
                if is_task_gone(status):
                    logger.warning(
                        "result of task %s dropped: %s %s", result.task_id, code, message
                    )
                    return None
                if status == 413 and result.body["outputData"]:
                    result = too_large(result, message)
                    continue
                if not is_retryable(status):
                    logger.error(
                        "server refused result of task %s: HTTP %d %s %s",
                        result.task_id,
                        status,
                        code,
                        message,
                    )
                    return None
                problem = f"HTTP {status} {code} {message}"
            if time.monotonic() >= deadline:
                logger.error(
                    "giving up on result of task %s after %d attempts: %s",
                    result.task_id,
                    attempts,
                    problem,
                )
                return None
            if attempts == 1:
                logger.warning(
                    "cannot post result of task %s (%s); retrying for up to %.0f s",
                    result.task_id,
                    problem,
                    max(0.0, deadline - time.monotonic()),
                )
            await asyncio.sleep(backoff.next())
