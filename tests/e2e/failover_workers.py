"""Workers for the failover test: each applies its side effect at most once per step.

Every delivery is logged, and the side effect is applied only if the task's idempotency key
(stable across re-deliveries and retries of one step of one run) was not applied before —
checked and recorded in the same transaction as the effect itself.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from psycopg_pool import ConnectionPool

from podium.worker import Task, worker_task

_pool = ConnectionPool(
    os.environ["FAILOVER_DB_URL"],
    min_size=1,
    max_size=8,
    kwargs={"options": f"-c search_path={os.environ['FAILOVER_SCHEMA']}"},
    open=True,
)


def _apply(task: Task, value: int) -> dict[str, Any]:
    time.sleep(random.uniform(0, 0.004))  # enough for deliveries to overlap
    key = task.idempotency_key
    with _pool.connection() as conn, conn.transaction():
        conn.execute("INSERT INTO deliveries (key, task_id) VALUES (%s, %s)", (key, task.task_id))
        fresh = conn.execute(
            "INSERT INTO applied (key) VALUES (%s) ON CONFLICT DO NOTHING RETURNING key", (key,)
        ).fetchone()
        if fresh is not None:
            conn.execute("INSERT INTO effects (key) VALUES (%s)", (key,))
    return {"value": value}


@worker_task("fo_add_one", concurrency=6)
def add_one(task: Task, value: int) -> dict[str, Any]:
    return _apply(task, value + 1)


@worker_task("fo_double", concurrency=6)
def double(task: Task, value: int) -> dict[str, Any]:
    return _apply(task, value * 2)


@worker_task("fo_add_three", concurrency=6)
def add_three(task: Task, value: int) -> dict[str, Any]:
    return _apply(task, value + 3)


@worker_task("fo_times_five", concurrency=6)
def times_five(task: Task, value: int) -> dict[str, Any]:
    return _apply(task, value * 5)


@worker_task("fo_minus_seven", concurrency=6)
def minus_seven(task: Task, value: int) -> dict[str, Any]:
    return _apply(task, value - 7)
