"""Long polls parked per queue, woken the moment a task is queued there."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["QueueWaiters"]


class QueueWaiters:
    """One future per parked poll; ``notify`` wakes every poll parked on a queue."""

    def __init__(self) -> None:
        self._parked: dict[str, set[asyncio.Future[None]]] = {}

    def register(self, queue: str) -> asyncio.Future[None]:
        """Park before looking at the queue, so a task queued in between is not missed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._parked.setdefault(queue, set()).add(future)
        return future

    def discard(self, queue: str, future: asyncio.Future[None]) -> None:
        parked = self._parked.get(queue)
        if parked is not None:
            parked.discard(future)
            if not parked:
                del self._parked[queue]

    def notify(self, queue: str) -> None:
        for future in self._parked.pop(queue, ()):
            if not future.done():
                future.set_result(None)

    def notify_all(self) -> None:
        for queue in list(self._parked):
            self.notify(queue)

    @staticmethod
    async def wait(future: asyncio.Future[None], timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(future), timeout_s)
