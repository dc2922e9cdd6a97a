"""The server's own worker for HTTP tasks: it claims them like any worker and reports back.

Because it goes through the same queue and leases, an HTTP call in flight when the server dies
is handed to a live executor once its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import httpx
import orjson

from podium.engine.decider import HTTP_QUEUE
from podium.engine.state import TaskStatus
from podium.errors import PodiumError
from podium.server.orchestrator import Claimed, Orchestrator

__all__ = ["HttpTaskExecutor", "call_http"]

log = logging.getLogger("podium.http_tasks")


async def call_http(
    client: httpx.AsyncClient, spec: Any
) -> tuple[TaskStatus, dict[str, Any], str | None]:
    """Make the call an HTTP task describes; the outcome as (status, output, reason)."""
    if not isinstance(spec, dict) or not spec.get("uri"):
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, "http_request.uri is missing"
    method = str(spec.get("method") or "GET").upper()
    headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
    if spec.get("accept"):
        headers.setdefault("Accept", str(spec["accept"]))
    body = spec.get("body")
    content: bytes | None = None
    if body is not None and method not in ("GET", "HEAD"):
        if isinstance(body, str | bytes):
            content = body.encode() if isinstance(body, str) else body
        else:
            content = orjson.dumps(body)
            headers.setdefault("Content-Type", str(spec.get("contentType") or "application/json"))
    timeout = httpx.Timeout(
        float(spec.get("readTimeOut") or 30_000) / 1000,
        connect=float(spec.get("connectionTimeOut") or 10_000) / 1000,
    )
    try:
        response = await client.request(
            method, str(spec["uri"]), headers=headers, content=content, timeout=timeout
        )
    except httpx.HTTPError as exc:
        return (
            TaskStatus.FAILED,
            {},
            f"HTTP {method} {spec['uri']} failed: {type(exc).__name__}: {exc}",
        )
    try:
        response_body: Any = response.json()
    except ValueError:
        response_body = response.text
    output = {
        "response": {
            "statusCode": response.status_code,
            "reasonPhrase": response.reason_phrase,
            "headers": {k: v for k, v in response.headers.items()},
            "body": response_body,
        }
    }
    if response.is_success:
        return TaskStatus.COMPLETED, output, None
    snippet = response.text[:500]
    return (
        TaskStatus.FAILED,
        output,
        f"HTTP {method} {spec['uri']} answered {response.status_code} {response.reason_phrase}: {snippet}",
    )


class HttpTaskExecutor:
    def __init__(self, orchestrator: Orchestrator, *, concurrency: int = 32) -> None:
        self.orchestrator = orchestrator
        self.concurrency = concurrency
        self.worker_id = f"podium-http-{uuid.uuid4().hex[:8]}"
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._client = httpx.AsyncClient(follow_redirects=True)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._loop(), name=f"podium-http-{i}") for i in range(self.concurrency)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()

    async def _loop(self) -> None:
        while True:
            try:
                claimed = await self.orchestrator.poll(HTTP_QUEUE, self.worker_id, 1, 5_000)
                for item in claimed:
                    await self._execute(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("HTTP task executor error; going on")
                await asyncio.sleep(0.5)

    async def _execute(self, claimed: Claimed) -> None:
        assert self._client is not None
        spec = claimed.task.input.get("http_request")
        status, output, reason = await call_http(self._client, spec)
        try:
            await self.orchestrator.update_task(
                claimed.task.task_id, status, output=output, reason=reason, worker_id=self.worker_id
            )
        except PodiumError as exc:
            log.warning("HTTP task %s result not recorded: %s", claimed.task.task_id, exc)
