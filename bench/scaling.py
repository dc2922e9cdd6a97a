"""W2 on PostgreSQL with one and with two server instances, measured in the same run.

Each configuration gets a fresh schema in a database made for this run (dropped after), two
worker processes (each pointed at one instance, as a load balancer would spread them) and
starts spread round-robin over the instances. Target: two instances >= 1.6x one.

Usage: ``python -m bench.scaling [--runs 500] [--rounds 3]``; PostgreSQL at
``PODIUM_BENCH_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``, used only to
create and drop the run's own database). Results go to ``bench/results/<date>-scaling.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import psycopg
from psycopg import sql

from bench.results_file import write_report
from bench.run import ROOT, _Api, _flow, _machine, _spawn, _wait_all, _wait_healthy
from podium.testing import free_port

ADMIN_URL = os.environ.get("PODIUM_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class _CpuMeter:
    """CPU seconds used by Podium's servers, its workers and PostgreSQL between two readings."""

    def __init__(self, servers: list[int], workers: list[int]) -> None:
        self.groups = {"servers": servers, "workers": workers}

    def read(self) -> dict[str, float]:
        reading = {name: sum(_cpu_s(pid) for pid in pids) for name, pids in self.groups.items()}
        reading["postgres"] = sum(_cpu_s(pid) for pid in _postgres_pids())
        return reading


async def _w2_spread(clients: list[_Api], runs: int, steps: int = 3) -> float:
    """Start ``runs`` runs spread over the instances; steps per second until all complete."""
    semaphore = asyncio.Semaphore(32)

    async def start(i: int) -> str:
        async with semaphore:
            return await clients[i % len(clients)].post("/api/workflow/bench_w2", {"i": i})

    ids = await asyncio.gather(*(start(i) for i in range(runs)))
    bodies = await _wait_all(clients[0], list(ids), timeout=600)
    first: int = min(b["startTime"] for b in bodies)
    last: int = max(b["endTime"] for b in bodies)
    return runs * steps / ((last - first) / 1000)


async def _measure(
    url: str, instances: int, runs: int, rounds: int, work: Path
) -> tuple[list[float], dict[str, float]]:
    """Steps per second of each round, and CPU milliseconds per step by process group."""
    schema = f"bench_{instances}_{uuid.uuid4().hex[:8]}"
    env = {"PODIUM_DATABASE_URL": url, "PODIUM_DATABASE_SCHEMA": schema}
    ports = [free_port() for _ in range(instances)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    processes: list[subprocess.Popen[bytes]] = [
        _spawn(["server", "--port", str(port)], work / f"server-{instances}-{i}.log", env)
        for i, port in enumerate(ports)
    ]
    try:
        for server_url in urls:
            _wait_healthy(server_url)
        sessions = [aiohttp.ClientSession(server_url) for server_url in urls]
        try:
            clients = [_Api(session) for session in sessions]
            await clients[0].post(
                "/api/metadata/taskdefs", [{"name": "bench_noop", "retryCount": 0}]
            )
            await clients[0].post("/api/metadata/workflow", _flow("bench_w2", 3), overwrite="true")
            for i in range(2):
                target = urls[i % instances]
                processes.append(
                    _spawn(
                        ["worker", "bench.workers", "--server", target],
                        work / f"worker-{instances}-{i}.log",
                    )
                )
            await _w2_spread(clients, 50)  # warm up connections, caches and prepared statements
            meter = _CpuMeter(
                [p.pid for p in processes[:instances]], [p.pid for p in processes[instances:]]
            )
            before = meter.read()
            rates = [await _w2_spread(clients, runs) for _ in range(rounds)]
            after = meter.read()
            steps = runs * 3 * rounds
            cpu = {name: (after[name] - before[name]) * 1000 / steps for name in after}
            return rates, cpu
        finally:
            for session in sessions:
                await session.close()
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


async def _main(out: Path, runs: int, rounds: int) -> None:
    database = f"podium_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    work = Path(tempfile.mkdtemp(prefix="podium-scaling-"))
    try:
        one, cpu_one = await _measure(url, 1, runs, rounds, work)
        two, cpu_two = await _measure(url, 2, runs, rounds, work)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
    m1, m2 = statistics.median(one), statistics.median(two)
    now = dt.datetime.now(dt.UTC)

    def spread(rates: list[float]) -> str:
        return f"{min(rates):.0f}-{max(rates):.0f}"

    report = "\n".join(
        [
            f"# Podium scaling benchmark, {now:%Y-%m-%d %H:%M} UTC",
            "",
            f"Command: `python -m bench.scaling --runs {runs} --rounds {rounds}`",
            f"Machine: {_machine()}; PostgreSQL on the same machine.",
            f"W2: {runs} concurrent 3-step runs, no-op worker; two worker processes in both "
            "configurations; median of the rounds.",
            "",
            "| configuration | W2 steps/s (median) | range | ratio to 1 instance | target |",
            "|---|---|---|---|---|",
            f"| 1 instance | {m1:.0f} | {spread(one)} | 1.00x | |",
            f"| 2 instances | {m2:.0f} | {spread(two)} | {m2 / m1:.2f}x | >= 1.6x |",
            "",
            "CPU per step (ms, user + system, all rounds):",
            "",
            "| configuration | Podium servers | workers | PostgreSQL | total |",
            "|---|---|---|---|---|",
            *(
                f"| {label} | {cpu['servers']:.2f} | {cpu['workers']:.2f} | "
                f"{cpu['postgres']:.2f} | {sum(cpu.values()):.2f} |"
                for label, cpu in (("1 instance", cpu_one), ("2 instances", cpu_two))
            ),
            "",
            f"At {sum(cpu_one.values()):.2f} ms of CPU per step, this machine's "
            f"{os.cpu_count()} cores allow at most "
            f"{(os.cpu_count() or 1) * 1000 / sum(cpu_one.values()):.0f} steps/s whatever the "
            "number of instances: every process shares the same cores.",
            "",
        ]
    )
    print(report)
    path = write_report(out, now, "scaling", report)
    print(f"written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(_main(args.out, args.runs, args.rounds))
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
