"""The benchmark's worker: does nothing, so what is measured is Podium's own cost per step."""

from __future__ import annotations

from podium.worker import worker_task


@worker_task("bench_noop", concurrency=64)
async def noop(i: int = 0) -> dict[str, int]:
    return {"i": i + 1}
