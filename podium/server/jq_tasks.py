"""The server's own worker for jq queries too slow to run inside a decision (``engine/jq_step``).

It claims them from their queue like any worker, runs each in a thread (the query itself runs
in a killable child process, ``scripting/jq_pool``) with the whole time limit, outside any
unit of work, and reports the outcome. A query in flight when the server dies is run again
by a live instance once its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from podium.engine.jq_step import JQ_QUEUE, jq_outcome
from podium.engine.limits import EngineLimits
from podium.errors import PodiumError
from podium.server.orchestrator import Claimed, Orchestrator

__all__ = ["JqTaskExecutor"]

log = logging.getLogger("podium.jq_tasks")


class JqTaskExecutor:
    def __init__(
        self, orchestrator: Orchestrator, limits: EngineLimits, *, concurrency: int = 4
    ) -> None:
        self.orchestrator = orchestrator
        self.limits = limits
        self.concurrency = concurrency
        self.worker_id = f"podium-jq-{uuid.uuid4().hex[:8]}"
        self._dispatcher: asyncio.Task[None] | None = None
        self._runs: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()

    def start(self) -> None:
        self._dispatcher = asyncio.get_running_loop().create_task(
            self._dispatch(), name="podium-jq"
        )

    async def stop(self) -> None:
        tasks = [*([self._dispatcher] if self._dispatcher else []), *self._runs]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._dispatcher = None
        self._runs.clear()

    async def _dispatch(self) -> None:
        while True:
            self._room.clear()
            room = self.concurrency - len(self._runs)
            if room <= 0:
                await self._room.wait()
                continue
            try:
                claimed = await self.orchestrator.poll(
                    JQ_QUEUE, self.worker_id, room, 5_000, lease_key=None
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("jq task executor error; going on")
                await asyncio.sleep(0.5)
                continue
            for item in claimed:
                run = asyncio.create_task(self._execute(item), name="podium-jq-query")
                self._runs.add(run)
                run.add_done_callback(self._run_ended)

    def _run_ended(self, run: asyncio.Task[None]) -> None:
        self._runs.discard(run)
        self._room.set()
        if not run.cancelled() and run.exception() is not None:
            log.error("jq task failed inside Podium", exc_info=run.exception())

    async def _execute(self, claimed: Claimed) -> None:
        outcome = await asyncio.to_thread(
            jq_outcome,
            claimed.task.input,
            self.limits.jq_time_limit_ms,
            self.limits.max_json_depth,
        )
        try:
            await self.orchestrator.update_task(
                claimed.task.task_id,
                outcome.status,
                output=outcome.output,
                reason=outcome.reason,
                worker_id=self.worker_id,
                lease_token=claimed.entry.lease_token,
            )
        except PodiumError as exc:
            log.warning("jq task %s result not recorded: %s", claimed.task.task_id, exc)
