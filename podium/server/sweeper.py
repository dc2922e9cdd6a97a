"""Time-driven work: expired leases, due timers, delayed tasks becoming claimable.

Any server instance may sweep: the store hands each due timer to exactly one unit of work.
The sweeper sleeps until the next known deadline, and is poked when a new one is written.
"""

from __future__ import annotations

import logging

from podium.server.background import PokedLoop
from podium.server.orchestrator import Orchestrator

__all__ = ["Sweeper"]

log = logging.getLogger("podium.sweeper")


class Sweeper(PokedLoop):
    """Poked when a new deadline is written, so that it looks then rather than at the next."""

    def __init__(self, orchestrator: Orchestrator, *, max_sleep_s: float = 1.0) -> None:
        super().__init__("podium-sweeper", lambda: orchestrator.clock(), max_sleep_s, log)
        self.orchestrator = orchestrator
        self._last = 0

    async def one_pass(self) -> int | None:
        self._last, next_due = await self.orchestrator.sweep(self._last)
        return next_due
