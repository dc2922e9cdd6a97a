"""A server-side worker for one of Podium's own queues (HTTP calls, slow jq queries).

It claims tasks like any worker, through the same queue and leases, so a task in flight when
the server dies is handed to a live executor once its lease expires. One long poll at a time
asks for as many tasks as there are free slots: a poll per slot would have each of them claim
on its own, and an idle server would run ``concurrency`` empty claims every time their long
polls ran out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from abc import ABC, abstractmethod

from podium.server.orchestrator import Claimed, Orchestrator

__all__ = ["QueueExecutor"]


class QueueExecutor(ABC):
    """Runs each task claimed from ``queue`` in ``_execute``, at most ``concurrency`` at once."""

    def __init__(
        self, orchestrator: Orchestrator, queue: str, kind: str, *, concurrency: int
    ) -> None:
        self.orchestrator = orchestrator
        self.queue = queue
        self.kind = kind
        self.concurrency = concurrency
        self.worker_id = f"podium-{kind}-{uuid.uuid4().hex[:8]}"
        self._log = logging.getLogger(f"podium.{kind}_tasks")
        self._dispatcher: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()

    @abstractmethod
    async def _execute(self, claimed: Claimed) -> None:
        """Do one claimed task and report its outcome."""

    def start(self) -> None:
        self._dispatcher = asyncio.get_running_loop().create_task(
            self._dispatch(), name=f"podium-{self.kind}"
        )

    async def stop(self) -> None:
        tasks = [*([self._dispatcher] if self._dispatcher else []), *self._running]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._dispatcher = None
        self._running.clear()

    async def _dispatch(self) -> None:
        while True:
            # Cleared before counting, so a task ending while we poll still wakes us.
            self._room.clear()
            room = self.concurrency - len(self._running)
            if room <= 0:
                await self._room.wait()
                continue
            try:
                # Its leases take only its own results, which carry their tokens.
                claimed = await self.orchestrator.poll(
                    self.queue, self.worker_id, room, 5_000, lease_key=None
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("%s task executor error; going on", self.kind)
                await asyncio.sleep(0.5)
                continue
            for item in claimed:
                task = asyncio.create_task(self._execute(item), name=f"podium-{self.kind}-task")
                self._running.add(task)
                task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._room.set()
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s task failed inside Podium", self.kind, exc_info=task.exception())
