"""Time-driven work: expired leases, due timers, delayed tasks becoming claimable.

Any server instance may sweep: the store hands each due timer to exactly one unit of work.
The sweeper sleeps until the next known deadline, and is poked when a new one is written.
"""

from __future__ import annotations

import asyncio
import logging

from podium.errors import PodiumError, StoreUnavailableError
from podium.server.background import BackgroundTask, nap
from podium.server.orchestrator import Orchestrator

__all__ = ["Sweeper"]

log = logging.getLogger("podium.sweeper")


class Sweeper:
    def __init__(self, orchestrator: Orchestrator, *, max_sleep_s: float = 1.0) -> None:
        self.orchestrator = orchestrator
        self.max_sleep_s = max_sleep_s
        self._poke = asyncio.Event()
        self._background = BackgroundTask("podium-sweeper", self._run)

    def poke(self) -> None:
        """A new deadline was written: look again now rather than at the next tick."""
        self._poke.set()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        last = 0
        while True:
            self._poke.clear()
            try:
                last, next_due = await self.orchestrator.sweep(last)
            except StoreUnavailableError:
                next_due = None  # the store logged the outage once; sweeping resumes after it
            except PodiumError:
                log.exception("sweep failed; trying again")
                next_due = None
            await nap(self._poke, next_due, self.orchestrator.clock(), self.max_sleep_s)
