"""The server's HTTP task executor: one long poll at a time, for as many calls as it has room."""

from __future__ import annotations

import asyncio
from typing import Any

from podium.server.http_tasks import HttpTaskExecutor


class _Orchestrator:
    """Hands out ``queued`` items, as many as asked for; an empty poll waits ``idle_s``."""

    def __init__(self, queued: int = 0, idle_s: float = 0.01) -> None:
        self.queued = list(range(queued))
        self.idle_s = idle_s
        self.asked: list[int] = []
        self.polling = 0
        self.most_polling = 0

    async def poll(
        self, queue: str, worker_id: str, count: int, timeout_ms: int, lease_key: str | None
    ) -> list[Any]:
        # The server's own worker claims leases that only their tokens complete.
        assert lease_key is None
        self.asked.append(count)
        self.polling += 1
        self.most_polling = max(self.most_polling, self.polling)
        try:
            if not self.queued:
                await asyncio.sleep(self.idle_s)
                return []
            await asyncio.sleep(0)
            handed, self.queued = self.queued[:count], self.queued[count:]
            return handed
        finally:
            self.polling -= 1


async def test_an_idle_executor_keeps_one_poll_open_for_all_its_slots() -> None:
    orchestrator = _Orchestrator()
    executor = HttpTaskExecutor(orchestrator, concurrency=8)  # type: ignore[arg-type]
    executor.start()
    await asyncio.sleep(0.1)
    await executor.stop()
    assert orchestrator.most_polling == 1
    assert len(orchestrator.asked) >= 3
    assert set(orchestrator.asked) == {8}


async def test_calls_run_side_by_side_up_to_the_concurrency_and_no_further() -> None:
    orchestrator = _Orchestrator(queued=10)
    executor = HttpTaskExecutor(orchestrator, concurrency=4)  # type: ignore[arg-type]
    release = asyncio.Event()
    running: list[int] = []
    done: list[int] = []
    most = 0

    async def execute(item: int) -> None:
        nonlocal most
        running.append(item)
        most = max(most, len(running))
        await release.wait()
        running.remove(item)
        done.append(item)

    executor._execute = execute  # type: ignore[assignment,method-assign]
    executor.start()
    await asyncio.sleep(0.05)
    assert sorted(running) == [0, 1, 2, 3]  # four at once, and the fifth waits for room
    release.set()
    for _ in range(100):
        if len(done) == 10:
            break
        await asyncio.sleep(0.01)
    await executor.stop()
    assert sorted(done) == list(range(10))
    assert most == 4
    assert all(count <= 4 for count in orchestrator.asked)


async def test_stop_cancels_calls_in_flight() -> None:
    orchestrator = _Orchestrator(queued=2)
    executor = HttpTaskExecutor(orchestrator, concurrency=4)  # type: ignore[arg-type]
    cancelled: list[int] = []

    async def execute(item: int) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    executor._execute = execute  # type: ignore[assignment,method-assign]
    executor.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(executor.stop(), 5)
    assert sorted(cancelled) == [0, 1]
