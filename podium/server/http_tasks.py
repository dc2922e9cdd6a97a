"""The server's own worker for HTTP tasks: it claims them like any worker and reports back
(``queue_executor``), making each call with one shared client session."""

from __future__ import annotations

import logging

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
from podium.server.queue_executor import QueueExecutor
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


class HttpTaskExecutor(QueueExecutor):
    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        concurrency: int = 32,
        secrets: SecretResolver | None = None,
        max_output_bytes: int | None = None,
        targets: TargetPolicy | None = None,
    ) -> None:
        super().__init__(orchestrator, HTTP_QUEUE, "http", concurrency=concurrency)
        self.max_output_bytes = max_output_bytes
        self.secrets = secrets or SecretResolver()
        self.targets = targets or TargetPolicy()
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
        super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

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
