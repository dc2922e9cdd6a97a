"""Workers for the chaos test: each applies its side effect at most once per step.

Effects go to a SQLite file of their own, whichever store the server uses. A delivery is
logged; the effect is applied only if the task's idempotency key (stable across
re-deliveries and retries of one step of one run) was not applied before, checked and
recorded in the same transaction as the effect. ``ch_flaky`` fails its first attempt.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from typing import Any

from podium.worker import Task, worker_task

_PATH = os.environ["CHAOS_EFFECTS_DB"]


def _apply(task: Task, value: int) -> dict[str, Any]:
    time.sleep(random.uniform(0, 0.02))  # long enough for a kill to land mid-task
    key = task.idempotency_key
    with sqlite3.connect(_PATH, timeout=30, isolation_level=None) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO deliveries (key, task_id) VALUES (?, ?)", (key, task.task_id))
        fresh = conn.execute(
            "INSERT INTO applied (key) VALUES (?) ON CONFLICT DO NOTHING RETURNING key", (key,)
        ).fetchone()
        if fresh is not None:
            conn.execute("INSERT INTO effects (key) VALUES (?)", (key,))
        conn.execute("COMMIT")
    return {"value": value}


@worker_task("ch_add", concurrency=4)
def add(task: Task, value: int) -> dict[str, Any]:
    return _apply(task, value + 1)


@worker_task("ch_double", concurrency=4)
def double(task: Task, value: int) -> dict[str, Any]:
    return _apply(task, value * 2)


@worker_task("ch_flaky", concurrency=4)
def flaky(task: Task, value: int) -> dict[str, Any]:
    if task.retry_count == 0:
        raise RuntimeError("the first attempt always fails")
    return _apply(task, value + 10)


@worker_task("ch_sum", concurrency=4)
def total(task: Task, left: int, right: int) -> dict[str, Any]:
    return _apply(task, left + right)
