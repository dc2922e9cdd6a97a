"""Podium's core benchmarks, against a real server and a real remote worker process.

W1: 20 runs, one after another, of a 10-step sequential workflow: per-step overhead
    (median and p95 over runs of run time / 10, from the server's own timestamps).
W2: 500 runs of a 3-step workflow started at once: steps per second until all complete.

Usage: ``python -m bench.run [--out bench/results]`` (``make bench``). Results are printed and
written as Markdown with the command and the machine they ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.results_file import write_report
from podium.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}


def _flow(name: str, steps: int) -> dict[str, Any]:
    tasks = []
    for i in range(steps):
        previous = f"${{s{i - 1}.output.i}}" if i else "${workflow.input.i}"
        tasks.append(
            {"name": "bench_noop", "taskReferenceName": f"s{i}", "inputParameters": {"i": previous}}
        )
    return {
        "name": name,
        "version": 1,
        "tasks": tasks,
        "outputParameters": {"i": f"${{s{steps - 1}.output.i}}"},
    }


def _spawn(
    args: list[str], log: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "podium", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


class _Api:
    """A thin JSON client on aiohttp: the benchmark's own requests must cost little."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def get(self, path: str, **params: Any) -> Any:
        async with self.session.get(path, params=params) as response:
            return await response.json()

    async def post(self, path: str, body: Any, **params: Any) -> str:
        async with self.session.post(path, json=body, params=params) as response:
            text = await response.text()
            if response.status >= 300:
                raise SystemExit(f"POST {path}: {response.status} {text}")
            return text


async def _wait_all(client: _Api, ids: list[str], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    pending = set(ids)
    done: dict[str, dict[str, Any]] = {}
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(pending)} runs did not finish in {timeout}s")
        found = await client.get("/api/workflow/search", status="RUNNING", size=0)
        if found["totalHits"] == 0:
            for run_id in list(pending):
                body = await client.get(f"/api/workflow/{run_id}", includeTasks="false")
                if body["status"] in TERMINAL:
                    done[run_id] = body
                    pending.discard(run_id)
        else:
            await asyncio.sleep(0.05)
    failed = [b for b in done.values() if b["status"] != "COMPLETED"]
    if failed:
        raise SystemExit(f"{len(failed)} runs did not complete: {failed[0]}")
    return list(done.values())


async def w1(client: _Api, runs: int = 20, steps: int = 10) -> dict[str, float]:
    await client.post("/api/metadata/workflow", _flow("bench_w1", steps), overwrite="true")
    per_step: list[float] = []
    for i in range(runs + 2):  # the first two warm up caches and connections
        run_id = await client.post("/api/workflow/bench_w1", {"i": i})
        while True:
            # The run's own timestamps are measured, so a coarse check costs no accuracy.
            await asyncio.sleep(0.02)
            body = await client.get(f"/api/workflow/{run_id}", includeTasks="false")
            if body["status"] in TERMINAL:
                break
        assert body["status"] == "COMPLETED", body
        if i >= 2:
            per_step.append((body["endTime"] - body["startTime"]) / steps)
    per_step.sort()
    return {
        "median_ms_per_step": statistics.median(per_step),
        "p95_ms_per_step": per_step[max(0, int(len(per_step) * 0.95) - 1)],
    }


async def w2(client: _Api, runs: int = 500, steps: int = 3) -> dict[str, float]:
    await client.post("/api/metadata/workflow", _flow("bench_w2", steps), overwrite="true")
    began = time.monotonic()
    semaphore = asyncio.Semaphore(32)

    async def start(i: int) -> str:
        async with semaphore:
            return await client.post("/api/workflow/bench_w2", {"i": i})

    ids = await asyncio.gather(*(start(i) for i in range(runs)))
    bodies = await _wait_all(client, list(ids), timeout=300)
    first = min(b["startTime"] for b in bodies)
    last = max(b["endTime"] for b in bodies)
    elapsed_s = (last - first) / 1000
    return {
        "steps_per_s": runs * steps / elapsed_s,
        "elapsed_s": elapsed_s,
        "wall_s": time.monotonic() - began,
    }


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


async def _main(out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _spawn(
        ["server", "--db", str(work / "bench.db"), "--port", str(port)], work / "server.log"
    )
    worker = None
    try:
        _wait_healthy(url)
        async with aiohttp.ClientSession(url) as session:
            client = _Api(session)
            await client.post("/api/metadata/taskdefs", [{"name": "bench_noop", "retryCount": 0}])
            worker = _spawn(["worker", "bench.workers", "--server", url], work / "worker.log")
            one = await w1(client)
            # This machine is small and shared: W2 is run three times and the median reported.
            rounds = [await w2(client) for _ in range(3)]
            rates = sorted(r["steps_per_s"] for r in rounds)
            two = {
                **sorted(rounds, key=lambda r: r["steps_per_s"])[1],
                "low": rates[0],
                "high": rates[-1],
            }
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(work, ignore_errors=True)
    now = dt.datetime.now(dt.UTC)
    report = "\n".join(
        [
            f"# Podium core benchmark, {now:%Y-%m-%d %H:%M} UTC",
            "",
            "Command: `python -m bench.run` (`make bench`)",
            f"Machine: {_machine()}",
            f"Store: SQLite (WAL, synchronous={os.environ.get('PODIUM_SQLITE_SYNCHRONOUS', 'FULL')}), "
            "one server process, one worker process (`podium worker`), all on this machine.",
            "",
            "| workload | metric | Podium | target |",
            "|---|---|---|---|",
            f"| W1: 20 runs x 10 sequential steps | median per-step overhead | {one['median_ms_per_step']:.2f} ms | <= 3 ms |",
            f"| W1 | p95 per-step overhead | {one['p95_ms_per_step']:.2f} ms | |",
            f"| W2: 500 concurrent 3-step runs | throughput, median of 3 | {two['steps_per_s']:.0f} steps/s | >= 800 steps/s |",
            f"| W2 | range over the 3 rounds | {two['low']:.0f}-{two['high']:.0f} steps/s | |",
            f"| W2 | first start to last end | {two['elapsed_s']:.2f} s | |",
            "",
            "Peer engines are measured side by side, with the same workloads and in one run, by",
            "`python -m bench.peers` (`bench/results/<date>-peers.md`, docs/benchmarks.md).",
            "",
        ]
    )
    print(report)
    path = write_report(out, now, "core", report)
    print(f"written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    asyncio.run(_main(args.out))


if __name__ == "__main__":
    main()
