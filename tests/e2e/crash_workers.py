"""Workers for the crash test: deterministic outputs, a little latency so runs overlap."""

from __future__ import annotations

import random
import time

from podium.worker import worker_task


@worker_task("crash_double", concurrency=4)
def double(n: int) -> dict[str, int]:
    time.sleep(random.uniform(0.02, 0.06))
    return {"value": n * 2}


@worker_task("crash_increment", concurrency=4)
def increment(value: int) -> dict[str, int]:
    time.sleep(random.uniform(0.02, 0.06))
    return {"value": value + 1}


@worker_task("crash_square", concurrency=4)
def square(value: int) -> dict[str, int]:
    time.sleep(random.uniform(0.02, 0.06))
    return {"value": value * value}
