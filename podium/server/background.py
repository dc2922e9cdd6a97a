"""The loops that run beside the server: started with it, cancelled when it stops.

The sweeper, retention, the event dispatcher, the outbox pumps, the broker bridges and the
retry of runs an open breaker failed (``breaker_recovery``) each run one such loop; most
sleep until their next deadline or until something pokes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["BackgroundTask", "nap"]


class BackgroundTask:
    """One named asyncio task running ``run()`` between ``start()`` and ``stop()``."""

    def __init__(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def nap(poke: asyncio.Event, next_due: int | None, now: int, max_sleep_s: float) -> None:
    """Sleep until ``next_due`` (epoch ms), at most ``max_sleep_s``, or until ``poke`` is set."""
    sleep_s = max_sleep_s
    if next_due is not None:
        sleep_s = min(sleep_s, max(0.0, (next_due - now) / 1000))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(poke.wait(), timeout=sleep_s)
