"""The server's own worker for HTTP tasks: it claims them like any worker and reports back.

Because it goes through the same queue and leases, an HTTP call in flight when the server dies
is handed to a live executor once its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import aiohttp
import orjson

from podium.dsl.http_request import request_of
from podium.engine.decider import HTTP_QUEUE
from podium.engine.state import TaskStatus
from podium.errors import PodiumError
from podium.observability.context import task_traceparent
from podium.server.http_calls import call_http
from podium.server.http_targets import CheckedResolver, TargetPolicy
from podium.server.orchestrator import Claimed, Orchestrator
from podium.server.secrets import SecretResolver

__all__ = ["HttpTaskExecutor", "call_http"]

log = logging.getLogger("podium.http_tasks")


_IDLE_CONNECTION_S = 3.0


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
        targets: TargetPolicy | None = None,
    ) -> None:
        self.orchestrator = orchestrator
        self.max_output_bytes = max_output_bytes
        self.secrets = secrets or SecretResolver()
        self.targets = targets or TargetPolicy()
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
        # Names are checked as they are resolved, and the connection goes to the address
        # checked (see ``http_targets``).
        connector = aiohttp.TCPConnector(
            keepalive_timeout=_IDLE_CONNECTION_S, resolver=CheckedResolver(self.targets)
        )
        self._session = aiohttp.ClientSession(connector=connector)
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
        spec, prefix = request_of(claimed.task.input)
        try:
            status, output, reason = await call_http(
                self._session,
                spec,
                _ids(claimed),
                self.secrets,
                note=claimed.task.secrets,
                policy=self.targets,
                prefix=prefix,
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
