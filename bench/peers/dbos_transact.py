"""DBOS Transact (PyPI ``dbos``) on SQLite or PostgreSQL: the engine is a library in this process.

Workflows and steps are ``async``; each step's result is checkpointed in the system database
before the next one runs, which is DBOS's durability. The "server" whose memory W4 reads is
this process, since DBOS has no separate one.

Run by ``python -m bench.peers``; alone: ``python -m bench.peers.dbos_transact --variant sqlite
--json-out out.json --work /tmp/w`` with the peers' virtualenv.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from typing import Any

import psycopg
from dbos import DBOS, DBOSConfig

from bench.peers.common import Sizes, per_step, rss_mb, run_peer, w4_result

ADMIN_URL = os.environ.get("PODIUM_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@DBOS.step()
async def noop(i: int) -> int:
    return i + 1


@DBOS.workflow()
async def sequence(steps: int, i: int) -> int:
    for _ in range(steps):
        i = await noop(i)
    return i


@DBOS.workflow()
async def fan_out(branches: int) -> int:
    results = await asyncio.gather(*(noop(i) for i in range(branches)))
    return sum(results)


@DBOS.workflow()
async def parked() -> None:
    await DBOS.sleep_async(86_400)


class DBOSPeer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.variant = args.variant or "sqlite"
        self.name = f"DBOS ({'SQLite' if self.variant == 'sqlite' else 'PostgreSQL'})"
        self.work = args.work
        self.loop = asyncio.new_event_loop()
        self.database = ""
        self.notes: list[str] = []

    def start(self) -> None:
        if self.variant == "sqlite":
            url = f"sqlite:///{self.work / 'dbos.sqlite'}"
        else:
            self.database = f"dbos_peers_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
            url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            url += "/" + self.database
        config: DBOSConfig = {
            "name": "podium-peers",
            "system_database_url": url,
            "log_level": "WARNING",
        }
        DBOS(config=config)

        async def launch() -> None:
            DBOS.launch()

        self.loop.run_until_complete(launch())

    def _go(self, job: Any) -> Any:
        return self.loop.run_until_complete(job)

    def w1(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> list[float]:
            took = []
            for i in range(sizes.w1_runs + 2):
                began = time.perf_counter()
                handle = await DBOS.start_workflow_async(sequence, sizes.w1_steps, i)
                await handle.get_result()
                if i >= 2:
                    took.append(time.perf_counter() - began)
            return took

        return per_step(self._go(go()), sizes.w1_steps)

    def w2(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> float:
            began = time.perf_counter()
            handles = [
                await DBOS.start_workflow_async(sequence, sizes.w2_steps, i)
                for i in range(sizes.w2_runs)
            ]
            await asyncio.gather(*(h.get_result() for h in handles))
            return sizes.w2_runs * sizes.w2_steps / (time.perf_counter() - began)

        rates = [self._go(go()) for _ in range(sizes.w2_rounds)]
        return {"steps_per_s": statistics.median(rates), "low": min(rates), "high": max(rates)}

    def w3(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> list[float]:
            took = []
            for i in range(sizes.w3_runs + 1):
                began = time.perf_counter()
                handle = await DBOS.start_workflow_async(fan_out, sizes.w3_branches)
                await handle.get_result()
                if i:
                    took.append(time.perf_counter() - began)
            return took

        took = self._go(go())
        return {"median_ms": statistics.median(took) * 1000}

    def w4(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            rss = {0: rss_mb(os.getpid())}
            began = time.perf_counter()
            done = 0
            for mark in sizes.checkpoints():
                while done < mark and time.perf_counter() - began < sizes.w4_budget_s:
                    # As many starts in flight as the other engines' clients keep.
                    batch = min(32, mark - done)
                    await asyncio.gather(*(DBOS.start_workflow_async(parked) for _ in range(batch)))
                    done += batch
                rss[done] = rss_mb(os.getpid())
                if done < mark:
                    break
            return w4_result(done, time.perf_counter() - began, rss, sizes.parked)

        return dict(self._go(go()))

    def stop(self) -> None:
        try:
            DBOS.destroy(workflow_completion_timeout_sec=0)
        finally:
            if self.database:
                with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


if __name__ == "__main__":
    run_peer(DBOSPeer, __doc__)
