"""Celery with Redis as broker and result backend: each workflow is a chain (W3: a chord).

This script starts its own ``redis-server`` (append-only file, fsync every second: Celery's
durability is Redis's) and a Celery worker process (prefork, one process per core), and stops
both. W4 parks chains whose first task has a one-day countdown; Celery's worker holds such
tasks in its own memory, so W4 reports Redis and the worker together.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time
from typing import Any

from celery import Celery, chain, chord, group

from bench.peers.common import (
    VENV,
    Sizes,
    free_port,
    per_step,
    rss_mb,
    run_peer,
    spawn,
    terminate,
    w4_result,
    wait_port,
)

BROKER = os.environ.get("PODIUM_PEERS_REDIS", "redis://127.0.0.1:6379/0")
app = Celery("podium_peers", broker=BROKER, backend=BROKER)
app.conf.update(worker_prefetch_multiplier=16, task_acks_late=True, result_expires=3600)


@app.task(name="noop")
def noop(i: int) -> int:
    return i + 1


@app.task(name="total")
def total(values: list[int]) -> int:
    return sum(values)


class CeleryPeer:
    name = "Celery + Redis (chain)"

    def __init__(self, args: argparse.Namespace) -> None:
        self.work = args.work
        self.redis: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.notes: list[str] = []

    def start(self) -> None:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise RuntimeError("redis-server is not installed")
        port = free_port()
        self.redis = spawn(
            [
                redis_server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.work),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ],
            self.work / "redis.log",
        )
        wait_port(port)
        url = f"redis://127.0.0.1:{port}/0"
        app.conf.update(broker_url=url, result_backend=url)
        self.worker = spawn(
            [
                str(VENV / "bin" / "celery"),
                "-A",
                "bench.peers.celery_redis",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(os.cpu_count() or 2),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.work / "celery.log",
            {"PODIUM_PEERS_REDIS": url},
        )
        noop.delay(0).get(timeout=60)

    def _chain(self, steps: int, i: int) -> Any:
        return chain(noop.s(i), *(noop.s() for _ in range(steps - 1))).apply_async()

    def w1(self, sizes: Sizes) -> dict[str, Any]:
        took = []
        for i in range(sizes.w1_runs + 2):
            began = time.perf_counter()
            self._chain(sizes.w1_steps, i).get(timeout=60)
            if i >= 2:
                took.append(time.perf_counter() - began)
        return per_step(took, sizes.w1_steps)

    def w2(self, sizes: Sizes) -> dict[str, Any]:
        rates = []
        for _ in range(sizes.w2_rounds):
            began = time.perf_counter()
            results = [self._chain(sizes.w2_steps, i) for i in range(sizes.w2_runs)]
            for result in results:
                result.get(timeout=300)
            rates.append(sizes.w2_runs * sizes.w2_steps / (time.perf_counter() - began))
        return {"steps_per_s": statistics.median(rates), "low": min(rates), "high": max(rates)}

    def w3(self, sizes: Sizes) -> dict[str, Any]:
        took = []
        for i in range(sizes.w3_runs + 1):
            began = time.perf_counter()
            chord(group(noop.s(b) for b in range(sizes.w3_branches)))(total.s()).get(timeout=120)
            if i:
                took.append(time.perf_counter() - began)
        return {"median_ms": statistics.median(took) * 1000}

    def w4(self, sizes: Sizes) -> dict[str, Any]:
        assert self.redis is not None and self.worker is not None
        pids = (self.redis.pid, self.worker.pid)
        rss = {0: sum(rss_mb(pid) for pid in pids)}
        began = time.perf_counter()
        done = 0
        for mark in sizes.checkpoints():
            while done < mark and time.perf_counter() - began < sizes.w4_budget_s:
                chain(noop.s(done).set(countdown=86_400), noop.s()).apply_async()
                done += 1
            rss[done] = sum(rss_mb(pid) for pid in pids)
            if done < mark:
                break
        self.notes.append(
            f"W4 memory is Redis ({rss_mb(self.redis.pid):.0f} MB) plus the Celery worker "
            f"({rss_mb(self.worker.pid):.0f} MB), which holds the countdown tasks."
        )
        return w4_result(done, time.perf_counter() - began, rss, sizes.parked)

    def stop(self) -> None:
        terminate(self.worker)
        terminate(self.redis)


if __name__ == "__main__":
    run_peer(CeleryPeer, __doc__)
