"""The loops that run beside the server: started with it, cancelled when it stops.

The sweeper, retention, the event dispatcher, the outbox pumps, the broker bridges and the
retry of runs an open breaker failed (``breaker_recovery``) each run one such loop; most
sleep until their next deadline or until something pokes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from podium.errors import StoreUnavailableError

__all__ = ["BackgroundTask", "PokedLoop", "nap"]


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


class PokedLoop:
    """A loop that makes one pass at a time (``one_pass``), then sleeps until the next
    deadline the pass returned (epoch ms; None: none known), ``max_sleep_s`` at most, or until
    ``poke()``. A pass that fails is logged and made again at the next wake-up, so the loop
    never ends but with the server; while the store is unreachable, which the store logs once,
    passes fail quietly. The sweeper, the scheduler, the event dispatcher and the retry of runs
    failed by open breakers are such loops."""

    def __init__(
        self, name: str, clock: Callable[[], int], max_sleep_s: float, log: logging.Logger
    ) -> None:
        """``clock`` is read at each nap (tests replace the orchestrator's)."""
        self.max_sleep_s = max_sleep_s
        self._clock = clock
        self._log = log
        self._poke = asyncio.Event()
        self._background = BackgroundTask(name, self._run)

    def poke(self) -> None:
        """Something changed: make a pass now rather than at the next known deadline."""
        self._poke.set()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def one_pass(self) -> int | None:
        """Do the loop's work that is due; the next deadline it knows of."""
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            self._poke.clear()
            next_due: int | None = None
            try:
                next_due = await self.one_pass()
            except StoreUnavailableError:
                pass  # logged once by the store; the passes resume after the outage
            except Exception:
                self._log.exception("%s failed; trying again", self._background.name)
            await nap(self._poke, next_due, self._clock(), self.max_sleep_s)
