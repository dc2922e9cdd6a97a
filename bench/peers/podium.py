"""Podium under the peers' workloads: a real server and a remote worker polling over HTTP.

The same server, worker and no-op task as ``bench.run``; one store per variant (SQLite with
``synchronous=FULL``, or PostgreSQL in a database made for the run and dropped after).
W1 and W3 use the server's own timestamps; W2 runs from its first start to its last end.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from psycopg import sql

from bench.peers.common import Sizes, per_step, rss_mb, terminate, w4_result
from bench.run import _Api, _spawn, _wait_all, _wait_healthy, w1, w2
from podium.testing import free_port

ADMIN_URL = os.environ.get("PODIUM_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _fan_out(branches: int) -> dict[str, Any]:
    refs = [f"b{i}" for i in range(branches)]
    return {
        "name": "bench_w3",
        "version": 1,
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": "bench_noop", "taskReferenceName": ref, "inputParameters": {"i": 1}}]
                    for ref in refs
                ],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": refs},
        ],
    }


_PARKED = {
    "name": "bench_w4",
    "version": 1,
    "tasks": [
        {
            "name": "park",
            "taskReferenceName": "park",
            "type": "WAIT",
            "inputParameters": {"duration": "1 day"},
        }
    ],
}


class PodiumPeer:
    """Podium on one store: ``sqlite`` or ``postgres``."""

    def __init__(self, store: str, work: Path) -> None:
        self.store = store
        self.name = f"Podium ({'SQLite' if store == 'sqlite' else 'PostgreSQL'})"
        self.work = work
        self.notes: list[str] = []
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.database = ""
        self.url = ""

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env: dict[str, str] = {}
        args = ["server", "--port", str(port)]
        if self.store == "sqlite":
            args += ["--db", str(self.work / "bench.db")]
        else:
            self.database = f"podium_peers_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            env["PODIUM_DATABASE_URL"] = ADMIN_URL.rsplit("/", 1)[0] + "/" + self.database
        self.server = _spawn(args, self.work / f"server-{self.store}.log", env)
        _wait_healthy(self.url)
        self._run(self._register())
        self.worker = _spawn(
            ["worker", "bench.workers", "--server", self.url],
            self.work / f"worker-{self.store}.log",
        )

    @property
    def server_pid(self) -> int:
        assert self.server is not None
        return self.server.pid

    def _run(self, job: Any) -> Any:
        return asyncio.run(job)

    async def _with_client(self, body: Any) -> Any:
        async with aiohttp.ClientSession(self.url) as session:
            return await body(_Api(session))

    async def _register(self) -> None:
        async def go(client: _Api) -> None:
            await client.post("/api/metadata/taskdefs", [{"name": "bench_noop", "retryCount": 0}])
            for flow in (_fan_out(100), _PARKED):
                await client.post("/api/metadata/workflow", flow, overwrite="true")

        await self._with_client(go)

    def w1(self, sizes: Sizes) -> dict[str, Any]:
        async def go(client: _Api) -> dict[str, float]:
            return await w1(client, runs=sizes.w1_runs, steps=sizes.w1_steps)

        return dict(self._run(self._with_client(go)))

    def w2(self, sizes: Sizes) -> dict[str, Any]:
        async def go(client: _Api) -> list[dict[str, float]]:
            return [
                await w2(client, runs=sizes.w2_runs, steps=sizes.w2_steps)
                for _ in range(sizes.w2_rounds)
            ]

        rounds = self._run(self._with_client(go))
        rates = [r["steps_per_s"] for r in rounds]
        return {"steps_per_s": statistics.median(rates), "low": min(rates), "high": max(rates)}

    def w3(self, sizes: Sizes) -> dict[str, Any]:
        async def go(client: _Api) -> list[float]:
            await client.post(
                "/api/metadata/workflow", _fan_out(sizes.w3_branches), overwrite="true"
            )
            took = []
            for i in range(sizes.w3_runs + 1):  # the first warms up
                run_id = await client.post("/api/workflow/bench_w3", {})
                (body,) = await _wait_all(client, [run_id], timeout=120)
                if i:
                    took.append((body["endTime"] - body["startTime"]) / 1000)
            return took

        took = self._run(self._with_client(go))
        return {
            "median_ms": statistics.median(took) * 1000,
            **{f"per_branch_{k}": v for k, v in per_step(took, sizes.w3_branches).items()},
        }

    def w4(self, sizes: Sizes) -> dict[str, Any]:
        async def go(client: _Api) -> dict[str, Any]:
            marks = sizes.checkpoints()
            rss = {0: rss_mb(self.server_pid)}
            semaphore = asyncio.Semaphore(32)

            async def start(i: int) -> None:
                async with semaphore:
                    await client.post("/api/workflow/bench_w4", {"i": i})

            began = time.monotonic()
            done = 0
            for mark in marks:
                await asyncio.gather(*(start(i) for i in range(done, mark)))
                done = mark
                rss[mark] = rss_mb(self.server_pid)
                print(f"[{self.name}] W4 {mark} parked, {rss[mark]:.0f} MB", flush=True)
                if time.monotonic() - began > sizes.w4_budget_s:
                    break
            elapsed = time.monotonic() - began
            found = await client.get("/api/workflow/search", status="RUNNING", size=0)
            result = w4_result(done, elapsed, rss, sizes.parked)
            result["running_per_server"] = found["totalHits"]
            return result

        return dict(self._run(self._with_client(go)))

    def stop(self) -> None:
        terminate(self.worker)
        terminate(self.server)
        if self.database:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)
                    )
                )
