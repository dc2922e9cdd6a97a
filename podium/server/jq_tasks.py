"""The server's own worker for jq queries too slow to run inside a decision (``engine/jq_step``).

It claims them from their queue like any worker, runs each in a thread (the query itself runs
in a killable child process, ``scripting/jq_pool``) with the whole time limit, outside any
unit of work, and reports the outcome. A query in flight when the server dies is run again
by a live instance once its lease expires.
"""

from __future__ import annotations

import asyncio

from podium.engine.jq_step import JQ_QUEUE, jq_outcome
from podium.engine.limits import EngineLimits
from podium.errors import PodiumError
from podium.server.orchestrator import Claimed, Orchestrator
from podium.server.queue_executor import QueueExecutor

__all__ = ["JqTaskExecutor"]


class JqTaskExecutor(QueueExecutor):
    def __init__(
        self, orchestrator: Orchestrator, limits: EngineLimits, *, concurrency: int = 4
    ) -> None:
        super().__init__(orchestrator, JQ_QUEUE, "jq", concurrency=concurrency)
        self.limits = limits

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
            self._log.warning("jq task %s result not recorded: %s", claimed.task.task_id, exc)
