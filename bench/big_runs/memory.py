"""Memory per cached run: what a run of N tasks costs in memory against its stored size.

The run is a dynamic fork of N ``bench_noop`` branches, completed by the worker, then its
JOIN and a one-day WAIT: N finished tasks with their inputs and outputs, and a run still
RUNNING, which is what a server keeps in its run cache (ended runs are not kept).

Method: once the run is parked on its WAIT, the server and worker are stopped. This process
then opens the same store through the store API (``podium.store.factory.store_for``), warms it
with a read of another run, and, under ``tracemalloc``, reads the run (``tx.get_run``): the
store fetches the stored bytes, decodes them and offers the state to its run cache. Held is the
memory still allocated after a ``gc.collect()`` with the state referenced, so it counts the
decoded state and, when the cache kept the entry, the stored bytes the cache keeps beside it;
peak is the most allocated at once while reading. Stored is the bytes of the run's rows in
every table with a ``run_id`` column, so it stays right whatever tables a run is split across:
on SQLite the length of every value; on PostgreSQL the raw length of every value and, beside
it, what PostgreSQL keeps on disk (``pg_column_size``, after TOAST compression).
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.big_runs.fan_out import branch_inputs, fan_out_flow
from bench.big_runs.podium_server import BigServer, register, tasks_of
from bench.run import _Api
from podium.settings import Settings
from podium.store.factory import store_for

MEMORY_TARGET = 3.0
"""held memory / stored bytes, at most."""


def memory_flow() -> dict[str, Any]:
    """The fan-out's flow, then a day's WAIT: the run stays RUNNING, so it may be cached."""
    flow = fan_out_flow("big_memory")
    flow["tasks"].append(
        {
            "name": "park",
            "taskReferenceName": "park",
            "type": "WAIT",
            "inputParameters": {"duration": "1 day"},
        }
    )
    return flow


@dataclass(frozen=True, slots=True)
class MemoryResult:
    tasks: int
    held_bytes: int
    peak_bytes: int
    stored_bytes: int
    stored_on_disk_bytes: int | None
    cached: bool | None

    @property
    def ratio(self) -> float:
        return self.held_bytes / self.stored_bytes if self.stored_bytes else float("inf")


async def _start_and_park(client: _Api, branches: int, timeout: float) -> tuple[str, int]:
    await register(client, memory_flow())
    run_id = await client.post("/api/workflow/big_memory", branch_inputs(branches))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        tasks = await tasks_of(client, run_id)
        parked = [t for t in tasks if t["referenceTaskName"] == "park"]
        if parked and parked[0]["status"] == "IN_PROGRESS":
            return run_id, len(tasks)
        if loop.time() > deadline:
            raise RuntimeError(f"memory run {run_id} not parked after {timeout:.0f}s")
        await asyncio.sleep(1.0)


def measure_memory(server: BigServer, branches: int, timeout: float) -> MemoryResult:
    run_id, tasks = asyncio.run(
        server.call(lambda client: _start_and_park(client, branches, timeout))
    )
    server.stop_processes()
    if server.store == "sqlite":
        stored, on_disk = _sqlite_bytes(server.sqlite_path, run_id), None
        settings = Settings(database=str(server.sqlite_path))
    else:
        stored, on_disk = _postgres_bytes(server.database_url, run_id)
        settings = Settings(database_url=server.database_url)
    held, peak, cached = asyncio.run(_held(settings, run_id))
    return MemoryResult(tasks, held, peak, stored, on_disk, cached)


async def _held(settings: Settings, run_id: str) -> tuple[int, int, bool | None]:
    store = store_for(settings)
    await store.open()
    try:
        await store.read(lambda tx: tx.get_run("no-such-run"))
        caches = _run_caches()
        before = [len(c) for c in caches]
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        found = await store.read(lambda tx: tx.get_run(run_id))
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if found is None:
            raise RuntimeError(f"run {run_id} is not in the store")
        after = [len(c) for c in caches]
        cached = any(a > b for a, b in zip(after, before, strict=True)) if caches else None
        del found
        return current - base, peak - base, cached
    finally:
        await store.close()


def _run_caches() -> list[Any]:
    """The store's run caches, found by type: where a backend keeps one is its own business."""
    try:
        from podium.store.run_cache import RunCache
    except ImportError:
        return []
    return [o for o in gc.get_objects() if isinstance(o, RunCache)]


def _sqlite_bytes(path: Path, run_id: str) -> int:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        total = 0
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            if "run_id" not in columns:
                continue
            lengths = " + ".join(f'coalesce(length(CAST("{c}" AS BLOB)), 0)' for c in columns)
            row = conn.execute(
                f'SELECT coalesce(sum({lengths}), 0) FROM "{table}" WHERE run_id = ?', (run_id,)
            ).fetchone()
            total += int(row[0])
        return total


def _postgres_bytes(url: str, run_id: str) -> tuple[int, int]:
    """Raw bytes of the run's values, and what PostgreSQL stores for them (compressed)."""
    raw = on_disk = 0
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall()
        tables: dict[str, dict[str, str]] = {}
        for table, column, kind in found:
            tables.setdefault(table, {})[column] = kind
        for table, columns in tables.items():
            if "run_id" not in columns:
                continue
            # A bytea's text form is hex, twice its length: its own length is the raw size.
            raw_sum = sql.SQL(" + ").join(
                sql.SQL(
                    "coalesce(octet_length({}), 0)"
                    if kind == "bytea"
                    else "coalesce(octet_length({}::text), 0)"
                ).format(sql.Identifier(c))
                for c, kind in columns.items()
            )
            disk_sum = sql.SQL(" + ").join(
                sql.SQL("coalesce(pg_column_size({}), 0)").format(sql.Identifier(c))
                for c in columns
            )
            query = sql.SQL(
                "SELECT coalesce(sum({}), 0), coalesce(sum({}), 0) FROM {} WHERE run_id = %s"
            ).format(raw_sum, disk_sum, sql.Identifier(table))
            row = conn.execute(query, (run_id,)).fetchone()
            assert row is not None
            raw += int(row[0])
            on_disk += int(row[1])
    return raw, on_disk
