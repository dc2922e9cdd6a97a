"""A Podium server and its worker for the big-run benchmarks, on SQLite or a fresh PostgreSQL.

The server and worker are the checked-out code (``python -m podium`` with ``PYTHONPATH`` at the
repository), so the benchmark judges whatever engine and store are there. The limits that stop
runaway definitions (loop iterations, tasks per run, fork width) are raised to the sizes asked
for: the benchmark's runs are big on purpose.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from psycopg import sql

from bench.peers.common import terminate
from bench.peers.podium import ADMIN_URL
from bench.run import TERMINAL, _Api, _spawn, _wait_healthy
from podium.testing import free_port

LIMITS = {
    "PODIUM_MAX_LOOP_ITERATIONS": 10_000,
    "PODIUM_MAX_TASKS_PER_RUN": 20_000,
    "PODIUM_MAX_FORK_WIDTH": 1000,
}
"""Podium's defaults (``podium/settings.py``); a benchmark bigger than these raises them."""


def limits_for(iterations: int, branches: int, memory_tasks: int) -> dict[str, str]:
    """The limits a run of these sizes needs, never below the defaults."""
    wanted = {
        "PODIUM_MAX_LOOP_ITERATIONS": iterations + 1,
        # A DO_WHILE task and one per iteration; a fork, its branches, the join and a wait.
        "PODIUM_MAX_TASKS_PER_RUN": max(iterations, branches, memory_tasks) * 2 + 100,
        "PODIUM_MAX_FORK_WIDTH": max(branches, memory_tasks),
    }
    return {name: str(max(LIMITS[name], value)) for name, value in wanted.items()}


class BigServer:
    """One server on ``store`` (``sqlite`` or ``postgres``) and one worker of ``bench.workers``."""

    def __init__(self, store: str, work: Path, limits: dict[str, str]) -> None:
        self.store = store
        self.name = f"Podium ({'SQLite' if store == 'sqlite' else 'PostgreSQL'})"
        self.work = work
        self.limits = limits
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.database = ""
        self.database_url = ""
        self.sqlite_path = work / "big.db"
        self.url = ""

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = dict(self.limits)
        args = ["server", "--port", str(port)]
        if self.store == "sqlite":
            args += ["--db", str(self.sqlite_path)]
        else:
            self.database = f"podium_big_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            self.database_url = ADMIN_URL.rsplit("/", 1)[0] + "/" + self.database
            env["PODIUM_DATABASE_URL"] = self.database_url
        self.server = _spawn(args, self.work / "server.log", env)
        _wait_healthy(self.url)
        asyncio.run(self.call(_register))
        self.worker = _spawn(
            ["worker", "bench.workers", "--server", self.url], self.work / "worker.log"
        )

    async def call(self, body: Any) -> Any:
        """``body(client)`` with a client on this server."""
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(self.url, timeout=timeout) as session:
            return await body(_Api(session))

    def stop_processes(self) -> None:
        """Stop the worker and the server; the database stays for reading afterwards."""
        terminate(self.worker)
        terminate(self.server)

    def stop(self) -> None:
        self.stop_processes()
        if self.database:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)
                    )
                )
            self.database = ""


async def _register(client: _Api) -> None:
    await client.post("/api/metadata/taskdefs", [{"name": "bench_noop", "retryCount": 0}])


async def register(client: _Api, flow: dict[str, Any]) -> None:
    await client.post("/api/metadata/workflow", flow, overwrite="true")


async def wait_run(
    client: _Api, run_id: str, timeout: float, *, until: str = "", label: str = ""
) -> dict[str, Any]:
    """The run (without its tasks) once it has ended, or once its status is ``until``.

    Polled once a second at most: the runs measured here take seconds to hours, and their own
    timestamps are what is measured.
    """
    began = time.monotonic()
    reported = began
    while True:
        body: dict[str, Any] = await client.get(f"/api/workflow/{run_id}", includeTasks="false")
        status = body.get("status", "")
        if status == until or status in TERMINAL:
            if status != until and status != "COMPLETED":
                raise RuntimeError(
                    f"run {run_id} ended {status}: {body.get('reasonForIncompletion')}"
                )
            return body
        now = time.monotonic()
        if now - began > timeout:
            raise RuntimeError(f"run {run_id} still {status} after {timeout:.0f}s")
        if label and now - reported > 30:
            print(f"[big-runs] {label}: still {status} after {now - began:.0f}s", flush=True)
            reported = now
        await asyncio.sleep(min(1.0, 0.05 + (now - began) / 20))


async def tasks_of(client: _Api, run_id: str) -> list[dict[str, Any]]:
    body = await client.get(f"/api/workflow/{run_id}", includeTasks="true")
    return list(body.get("tasks", []))
