"""A bounded soak: steady load on one server and one worker, memory and latency over time.

Client threads run a 3-step workflow end to end through ``POST /api/workflow/execute`` (which
answers once the run ends), one after another, for ``--minutes``; every ``--interval``
seconds the server's and the worker's resident memory are sampled. Each interval's
latencies (p50/p95/p99 of start-to-end as the client sees it) and memory are printed and
written to ``bench/results/<date>-soak.md``. A growing RSS or a drifting p99 is what to look for.

Usage: ``python -m bench.soak --minutes 10`` (``make soak``); ``--minutes 0.5`` for a quick look.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.results_file import write_report
from bench.run import _flow
from podium.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
STEPS = 3


@dataclass
class Interval:
    started_s: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    server_rss_mb: float = 0.0
    worker_rss_mb: float = 0.0


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _spawn(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "podium", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
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
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server at {url} did not start")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _client(
    url: str, stop: threading.Event, intervals: list[Interval], lock: threading.Lock
) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        n = 0
        while not stop.is_set():
            n += 1
            began = time.perf_counter()
            try:
                response = client.post(
                    "/api/workflow/execute/soak_flow/1",
                    params={"waitForSeconds": 10},
                    json={"input": {"i": n}},
                )
                ok = response.status_code == 200 and response.json()["status"] == "COMPLETED"
            except httpx.HTTPError:
                ok = False
            elapsed_ms = (time.perf_counter() - began) * 1000
            with lock:
                current = intervals[-1]
                if ok:
                    current.latencies_ms.append(elapsed_ms)
                else:
                    current.errors += 1


def soak(minutes: float, interval_s: float, clients: int) -> tuple[list[Interval], str]:
    workdir = Path(tempfile.mkdtemp(prefix="podium-soak-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"PODIUM_DATABASE": str(workdir / "soak.db"), "PODIUM_SQLITE_SYNCHRONOUS": "NORMAL"}
    server = _spawn(["server", "--port", str(port)], workdir / "server.log", env)
    worker = None
    try:
        _wait_healthy(url)
        httpx.post(
            f"{url}/api/metadata/workflow", json=_flow("soak_flow", STEPS), timeout=10
        ).raise_for_status()
        worker = _spawn(["worker", "bench.workers", "--server", url], workdir / "worker.log", env)
        time.sleep(2)  # the worker's first polls
        lock = threading.Lock()
        stop = threading.Event()
        intervals = [Interval(0.0)]
        threads = [
            threading.Thread(target=_client, args=(url, stop, intervals, lock), daemon=True)
            for _ in range(clients)
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        end = began + minutes * 60
        while time.monotonic() < end:
            time.sleep(max(0.0, min(interval_s, end - time.monotonic())))
            with lock:
                current = intervals[-1]
                current.server_rss_mb = rss_mb(server.pid)
                current.worker_rss_mb = rss_mb(worker.pid)
                _report(current)
                if time.monotonic() < end:
                    intervals.append(Interval(time.monotonic() - began))
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        return intervals, "SQLite (WAL, synchronous=NORMAL)"
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _row(interval: Interval) -> str:
    lat = interval.latencies_ms
    return (
        f"| {interval.started_s / 60:.1f} | {len(lat)} | {interval.errors} "
        f"| {_percentile(lat, 0.5):.1f} | {_percentile(lat, 0.95):.1f} "
        f"| {_percentile(lat, 0.99):.1f} | {interval.server_rss_mb:.1f} "
        f"| {interval.worker_rss_mb:.1f} |"
    )


def _report(interval: Interval) -> None:
    print(_row(interval), flush=True)


_HEADER = (
    "| from minute | runs | errors | p50 ms | p95 ms | p99 ms | server RSS MB | worker RSS MB |\n"
    "|---|---|---|---|---|---|---|---|"
)


def write_results(
    out: Path, intervals: list[Interval], minutes: float, clients: int, where: str
) -> Path:
    now = dt.datetime.now(dt.UTC)
    all_latencies = [ms for interval in intervals for ms in interval.latencies_ms]
    first, last = intervals[0], intervals[-1]
    cpu = platform.processor() or platform.machine()
    lines = [
        f"# Podium soak, {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `python -m bench.soak --minutes {minutes:g}` (`make soak` runs 10 minutes)",
        f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()}",
        f"Load: {clients} client threads, each running a {STEPS}-step workflow end to end "
        "(POST /api/workflow/execute) one after another; one server, one worker process "
        f"(`podium worker bench.workers`); {where}.",
        "Latency is start to end of one run as the client sees it.",
        "",
        _HEADER,
        *(_row(interval) for interval in intervals),
        "",
        f"Runs: {len(all_latencies)} completed, {sum(i.errors for i in intervals)} errors. "
        f"Overall p50 {_percentile(all_latencies, 0.5):.1f} ms, "
        f"p99 {_percentile(all_latencies, 0.99):.1f} ms"
        + (f", mean {statistics.fmean(all_latencies):.1f} ms." if all_latencies else "."),
        f"Server RSS went from {first.server_rss_mb:.1f} MB after the first interval to "
        f"{last.server_rss_mb:.1f} MB after the last; the worker's from "
        f"{first.worker_rss_mb:.1f} MB to {last.worker_rss_mb:.1f} MB.",
        "",
    ]
    return write_report(out, now, "soak", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per report row")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    # A short look still gets a few rows; a real soak reports per --interval.
    interval_s = args.interval if args.minutes >= 2 else max(5.0, args.minutes * 60 / 4)
    print(_HEADER, flush=True)
    intervals, where = soak(args.minutes, interval_s, args.clients)
    path = write_results(args.out, intervals, args.minutes, args.clients, where)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
