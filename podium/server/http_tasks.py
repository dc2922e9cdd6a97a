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

import aiohttp
import orjson

from podium.engine.decider import HTTP_QUEUE
from podium.engine.state import TaskStatus
from podium.errors import PodiumError
from podium.observability.context import task_traceparent
from podium.server.orchestrator import Claimed, Orchestrator
from podium.server.secrets import MissingSecretError, SecretResolver

__all__ = ["HttpTaskExecutor", "call_http"]

log = logging.getLogger("podium.http_tasks")


_IDLE_CONNECTION_S = 3.0


async def call_http(
    session: aiohttp.ClientSession,
    spec: Any,
    ids: dict[str, str] | None = None,
    secrets: SecretResolver | None = None,
) -> tuple[TaskStatus, dict[str, Any], str | None]:
    """Make the call an HTTP task describes; the outcome as (status, output, reason).

    ``ids`` (trace context, correlation and request ids) are sent as headers unless the task
    sets those headers itself. ``${workflow.secrets.NAME}`` in the URI, headers and body is
    replaced by the secret for the call only; reasons quote the URI as written, unresolved."""
    if not isinstance(spec, dict) or not spec.get("uri"):
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, "http_request.uri is missing"
    method = str(spec.get("method") or "GET").upper()
    shown_uri = str(spec["uri"])
    resolver = secrets or SecretResolver()
    try:
        uri = resolver.resolve(shown_uri)
        raw_headers = resolver.resolve(spec.get("headers") or {})
        body = resolver.resolve(spec.get("body"))
    except MissingSecretError as exc:
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, f"HTTP {method} {shown_uri}: {exc}"
    headers = {
        str(k): str(v) for k, v in (raw_headers if isinstance(raw_headers, dict) else {}).items()
    }
    for name, value in (ids or {}).items():
        if name.lower() not in {key.lower() for key in headers}:
            headers[name] = value
    if spec.get("accept"):
        headers.setdefault("Accept", str(spec["accept"]))
    content: bytes | None = None
    if body is not None and method not in ("GET", "HEAD"):
        if isinstance(body, str | bytes):
            content = body.encode() if isinstance(body, str) else body
        else:
            content = orjson.dumps(body)
            headers.setdefault("Content-Type", str(spec.get("contentType") or "application/json"))
    try:
        timeout = aiohttp.ClientTimeout(
            sock_connect=float(spec.get("connectionTimeOut") or 10_000) / 1000,
            sock_read=float(spec.get("readTimeOut") or 30_000) / 1000,
        )
        async with session.request(
            method, uri, headers=headers, data=content, timeout=timeout
        ) as response:
            raw = await response.read()
            status, reason_phrase = response.status, response.reason or ""
            response_headers = {str(k): v for k, v in response.headers.items()}
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        # aiohttp's message may quote the resolved URI: name the exception type only then.
        detail = str(exc) if uri == shown_uri else "(details withheld: the URI holds a secret)"
        return (
            TaskStatus.FAILED,
            {},
            f"HTTP {method} {shown_uri} failed: {type(exc).__name__}: {detail}",
        )
    text = raw.decode("utf-8", "replace")
    try:
        response_body: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        response_body = text
    output = {
        "response": {
            "statusCode": status,
            "reasonPhrase": reason_phrase,
            "headers": response_headers,
            "body": response_body,
        }
    }
    if 200 <= status < 300:
        return TaskStatus.COMPLETED, output, None
    return (
        TaskStatus.FAILED,
        output,
        f"HTTP {method} {shown_uri} answered {status} {reason_phrase}: {text[:500]}",
    )


def _ids(claimed: Claimed) -> dict[str, str]:
    run_id, task_id = claimed.state.run_id, claimed.task.task_id
    ids = {
        "traceparent": task_traceparent(run_id, task_id),
        "X-Request-Id": task_id,
        "X-Podium-Workflow-Id": run_id,
        "X-Podium-Task-Id": task_id,
    }
    if claimed.state.correlation_id:
        ids["X-Correlation-Id"] = claimed.state.correlation_id
    return ids


class HttpTaskExecutor:
    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        concurrency: int = 32,
        secrets: SecretResolver | None = None,
        max_output_bytes: int | None = None,
    ) -> None:
        self.orchestrator = orchestrator
        self.max_output_bytes = max_output_bytes
        self.secrets = secrets or SecretResolver()
        self.concurrency = concurrency
        self.worker_id = f"podium-http-{uuid.uuid4().hex[:8]}"
        self._dispatcher: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        # An idle connection is dropped before the common servers' own keep-alive timeouts
        # (uvicorn's and Node's are 5 s): reusing one the service is closing at that moment
        # fails the call ("Can not write request body") though the service is healthy, which
        # would count against its circuit breaker.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(keepalive_timeout=_IDLE_CONNECTION_S)
        )
        self._dispatcher = asyncio.get_running_loop().create_task(
            self._dispatch(), name="podium-http"
        )

    async def stop(self) -> None:
        tasks = [*([self._dispatcher] if self._dispatcher else []), *self._calls]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._dispatcher = None
        self._calls.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _dispatch(self) -> None:
        """One long poll at a time, for as many tasks as there are free slots.

        A poll per slot would have each of them claim on its own, and an idle server would
        run ``concurrency`` empty claims every time their long polls ran out.
        """
        while True:
            # Cleared before counting, so a call ending while we poll still wakes us.
            self._room.clear()
            room = self.concurrency - len(self._calls)
            if room <= 0:
                await self._room.wait()
                continue
            try:
                # Its leases take only its own results, which carry their tokens.
                claimed = await self.orchestrator.poll(
                    HTTP_QUEUE, self.worker_id, room, 5_000, lease_key=None
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("HTTP task executor error; going on")
                await asyncio.sleep(0.5)
                continue
            for item in claimed:
                call = asyncio.create_task(self._execute(item), name="podium-http-call")
                self._calls.add(call)
                call.add_done_callback(self._call_ended)

    def _call_ended(self, call: asyncio.Task[None]) -> None:
        self._calls.discard(call)
        self._room.set()
        if not call.cancelled() and call.exception() is not None:
            log.error("HTTP task call failed inside Podium", exc_info=call.exception())

    async def _execute(self, claimed: Claimed) -> None:
        assert self._session is not None
        spec = claimed.task.input.get("http_request")
        try:
            status, output, reason = await call_http(
                self._session, spec, _ids(claimed), self.secrets
            )
        except Exception as exc:
            # Our bug, not the service's: fail the attempt now rather than at lease expiry.
            log.exception("HTTP task %s failed inside Podium", claimed.task.task_id)
            status, output = TaskStatus.FAILED, {}
            reason = f"Podium could not make the call ({type(exc).__name__}: {exc})"
        size = len(orjson.dumps(output))
        if self.max_output_bytes is not None and size > self.max_output_bytes:
            # The same limit a worker's result meets: the response is dropped, not stored.
            status, output = TaskStatus.FAILED, {}
            reason = (
                f"the response makes an output of {size} bytes; the limit is "
                f"{self.max_output_bytes} (PODIUM_MAX_TASK_OUTPUT_BYTES)"
            )
        try:
            await self.orchestrator.update_task(
                claimed.task.task_id,
                status,
                output=output,
                reason=reason,
                worker_id=self.worker_id,
                lease_token=claimed.entry.lease_token,
            )
        except PodiumError as exc:
            log.warning("HTTP task %s result not recorded: %s", claimed.task.task_id, exc)
