"""DO_WHILE growth: one run of N iterations of one SIMPLE task, no ``keepLastN``.

Every iteration adds a task to the run, so a step whose cost grows with the run's size shows
as later iterations taking longer than early ones. The figure is the ratio of the ms per
iteration in the last tenth to that in the first tenth, from the tasks' own end times as the
server recorded them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.big_runs.podium_server import BigServer, register, tasks_of, wait_run
from bench.run import _Api

LOOP_TARGET = 1.5
"""last tenth / first tenth of ms per iteration, at most."""


def loop_flow() -> dict[str, Any]:
    return {
        "name": "big_loop",
        "version": 1,
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "inputParameters": {"times": "${workflow.input.times}"},
                "loopCondition": "$.loop.iteration < $.times",
                "loopOver": [
                    {
                        "name": "bench_noop",
                        "taskReferenceName": "work",
                        "inputParameters": {"i": "${loop.output.iteration}"},
                    }
                ],
            }
        ],
    }


@dataclass(frozen=True, slots=True)
class LoopResult:
    iterations: int
    total_s: float
    first_ms: float
    last_ms: float

    @property
    def ratio(self) -> float:
        return self.last_ms / self.first_ms if self.first_ms else float("inf")


def tenths(ends_ms: list[int]) -> tuple[float, float]:
    """ms per iteration over the first and the last tenth of the iterations.

    ``ends_ms`` are the iterations' end times in order. Both tenths are timed between end
    times (the first from the end of iteration 1), so neither includes the run's start or
    the worker's first poll.
    """
    n = len(ends_ms)
    if n < 2:
        raise ValueError("at least two iterations are needed to time one")
    k = max(1, min(n // 10, n - 1))
    first = (ends_ms[k] - ends_ms[0]) / k
    last = (ends_ms[-1] - ends_ms[-1 - k]) / k
    return first, last


async def _measure(client: _Api, iterations: int, timeout: float) -> LoopResult:
    await register(client, loop_flow())
    # A short loop first, so the worker is polling and the server warm when timing starts.
    warm = await client.post("/api/workflow/big_loop", {"times": 3})
    await wait_run(client, warm, timeout)
    began = time.monotonic()
    run_id = await client.post("/api/workflow/big_loop", {"times": iterations})
    run = await wait_run(client, run_id, timeout, label=f"DO_WHILE x {iterations}")
    print(f"[big-runs] DO_WHILE x {iterations}: {time.monotonic() - began:.1f}s", flush=True)
    work = [t for t in await tasks_of(client, run_id) if t.get("taskType") != "DO_WHILE"]
    work = [t for t in work if t["referenceTaskName"].startswith("work__")]
    if len(work) != iterations:
        raise RuntimeError(f"the loop ran {len(work)} iterations, not {iterations}")
    work.sort(key=lambda t: int(t["iteration"]))
    ends = [int(t["endTime"]) for t in work]
    first, last = tenths(ends)
    return LoopResult(iterations, (run["endTime"] - run["startTime"]) / 1000, first, last)


def measure_loop(server: BigServer, iterations: int, timeout: float) -> LoopResult:
    result: LoopResult = asyncio.run(
        server.call(lambda client: _measure(client, iterations, timeout))
    )
    return result
