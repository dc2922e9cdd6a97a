"""Time-driven work: expired leases, due timers, delayed tasks becoming claimable.

Any server instance may sweep: the store hands each due timer to exactly one unit of work.
The sweeper sleeps until the next known deadline, and is poked when a new one is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from podium.errors import PodiumError
from podium.server.orchestrator import Orchestrator

__all__ = ["Sweeper"]

log = logging.getLogger("podium.sweeper")


class Sweeper:
    def __init__(self, orchestrator: Orchestrator, *, max_sleep_s: float = 1.0) -> None:
        self.orchestrator = orchestrator
        self.max_sleep_s = max_sleep_s
        self._poke = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """A new deadline was written: look again now rather than at the next tick."""
        self._poke.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="podium-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        last = 0
        while True:
            self._poke.clear()
            try:
                last, next_due = await self.orchestrator.sweep(last)
            except PodiumError:
                log.exception("sweep failed; trying again")
                next_due = None
            sleep_s = self.max_sleep_s
            if next_due is not None:
                sleep_s = min(sleep_s, max(0.0, (next_due - self.orchestrator.clock()) / 1000))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), timeout=sleep_s)
