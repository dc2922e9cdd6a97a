"""The loops beside the server: a pass at each wake-up, woken early by a poke, never ended by
a pass that fails."""

from __future__ import annotations

import asyncio
import logging

import pytest

from podium.errors import StoreUnavailableError
from podium.server.background import PokedLoop


class Counting(PokedLoop):
    def __init__(self, failures: list[BaseException]) -> None:
        super().__init__("test-loop", lambda: 0, 30.0, logging.getLogger("test.loop"))
        self.passes = 0
        self.failures = failures
        self.made = asyncio.Event()

    async def one_pass(self) -> int | None:
        self.passes += 1
        self.made.set()
        if self.failures:
            raise self.failures.pop(0)
        return None  # no deadline known: only a poke (or max_sleep_s) wakes it


async def _next_pass(loop: Counting) -> None:
    loop.made.clear()
    loop.poke()
    await asyncio.wait_for(loop.made.wait(), timeout=5)


async def test_a_poke_wakes_the_loop_and_a_failed_pass_does_not_end_it(caplog):
    loop = Counting([RuntimeError("boom"), StoreUnavailableError("down")])
    loop.start()
    try:
        await asyncio.wait_for(loop.made.wait(), timeout=5)  # the first pass, failing
        await _next_pass(loop)  # the store is away: quietly
        await _next_pass(loop)  # and back
        assert loop.passes == 3
    finally:
        await loop.stop()
    logged = [r for r in caplog.records if r.name == "test.loop"]
    assert len(logged) == 1 and "test-loop failed" in logged[0].getMessage()


def test_a_loop_says_what_its_pass_is():
    with pytest.raises(NotImplementedError):
        asyncio.run(PokedLoop("x", lambda: 0, 1.0, logging.getLogger("x")).one_pass())
