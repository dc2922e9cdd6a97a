"""Big runs: DO_WHILE growth, a wide dynamic fan-out against Restate, memory per cached run.

1. DO_WHILE growth: one run of ``--iterations`` (10,000) iterations of one SIMPLE task; ms per
   iteration in the first and the last tenth and their ratio (target: last/first <= 1.5).
2. Fan-out: a FORK_JOIN_DYNAMIC of ``--branches`` (1,000) SIMPLE branches and its JOIN, one
   worker, on each store, and Restate's same fan-out in the same run (targets: Podium/Restate
   <= 1.0 on SQLite, <= 2.0 on PostgreSQL).
3. Memory: a run of ``--memory-tasks`` (10,000) tasks, read and cached through the store API;
   memory held against the run's stored bytes (target <= 3.0).

Usage: ``python -m bench.big_runs [--store sqlite|postgres|both] [--iterations N]
[--branches N] [--memory-tasks N] [--peers restate|none] [--parts loop,fan-out,memory]``;
``--iterations 500 --branches 100 --memory-tasks 1000`` is a smoke run. Everything runs against
the checked-out code (``PYTHONPATH`` at the repository). The report is printed and written to
``bench/results/<date>-big-runs[-<label>].md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.big_runs.fan_out import measure_podium, measure_restate
from bench.big_runs.loop import measure_loop
from bench.big_runs.memory import measure_memory
from bench.big_runs.podium_server import BigServer, limits_for
from bench.big_runs.report import (
    TARGET_BRANCHES,
    TARGET_ITERATIONS,
    TARGET_TASKS,
    Findings,
    render,
)
from bench.peers.common import ROOT, remove
from bench.results_file import write_report

PARTS = ("loop", "fan-out", "memory")
T = TypeVar("T")


def _log(message: str) -> None:
    print(f"[big-runs] {message}", file=sys.stderr, flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--iterations", type=int, default=TARGET_ITERATIONS)
    parser.add_argument("--branches", type=int, default=TARGET_BRANCHES)
    parser.add_argument("--memory-tasks", type=int, default=TARGET_TASKS)
    parser.add_argument(
        "--memory-store",
        choices=("sqlite", "postgres", "both"),
        default="sqlite",
        help="where the memory part runs (of --store): both stores keep the same state bytes,"
        " and a 10,000-branch fan-out takes hours on today's PostgreSQL store",
    )
    parser.add_argument("--fan-out-runs", type=int, default=3)
    parser.add_argument("--peers", choices=("restate", "none"), default="restate")
    parser.add_argument("--parts", default=",".join(PARTS), help="which of loop,fan-out,memory")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="per run, seconds")
    parser.add_argument("--label", default="", help="file name suffix, e.g. baseline")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {PARTS}")
    return args


def _run_store(store: str, args: argparse.Namespace, work: Path, found: Findings) -> None:
    """Every part asked for, on one server of ``store``; a part that fails is recorded."""
    limits = limits_for(args.iterations, args.branches, args.memory_tasks)
    server = BigServer(store, work / store, limits)
    try:
        server.start()
        if "loop" in args.parts:
            loop = _part(found, f"DO_WHILE ({store})", measure_loop, server, args.iterations)
            if loop is not None:
                found.loops[store] = loop
        if "fan-out" in args.parts:
            runs = args.fan_out_runs
            fan_out = _part(
                found, f"fan-out ({store})", measure_podium, server, args.branches, runs
            )
            if fan_out is not None:
                found.fan_outs[store] = fan_out
        # Last: it stops the server, to read the store itself.
        if "memory" in args.parts and args.memory_store in (store, "both"):
            memory = _part(found, f"memory ({store})", measure_memory, server, args.memory_tasks)
            if memory is not None:
                found.memory[store] = memory
    except Exception as exc:
        found.errors[f"Podium ({store})"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        server.stop()


def _part(found: Findings, label: str, job: Callable[..., T], *sizes: Any) -> T | None:
    """``job(*sizes, timeout=...)``, or None with the reason under ``found.errors``."""
    _log(f"{label} ...")
    began = time.monotonic()
    try:
        result = job(*sizes, timeout=found.timeout)
        # A full run takes hours: each part's figures are shown as soon as they are known.
        _log(f"{label}: {result}")
        return result
    except Exception as exc:
        found.errors[label] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        return None
    finally:
        _log(f"{label} done in {time.monotonic() - began:.1f}s")


def _restate(args: argparse.Namespace, work: Path, found: Findings) -> dict[str, str]:
    """Restate's fan-out, after installing the peers if they are not yet; its versions."""
    try:
        from bench.peers.__main__ import _ensure_peers_installed

        versions = _ensure_peers_installed()
    except Exception as exc:
        found.restate = {"error": f"the peers could not be installed: {exc}"}
        return {}
    _log(f"Restate fan-out x {args.branches} ...")
    found.restate = measure_restate(work, args.branches, args.fan_out_runs)
    return {k: v for k, v in versions.items() if k.startswith("restate")}


def _code() -> str:
    """Which Podium was measured: the checked-out commit, and whether the tree had changes."""

    def git(*words: str) -> str:
        done = subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("log", "-1", "--format=%h %s")
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", "podium") else ""
    if len(head) > 80:
        head = head[:77].rsplit(" ", 1)[0] + " ..."
    return f"`{head}`{dirty}" if head else "unknown (not a git checkout)"


def main(argv: list[str] | None = None) -> Path:
    args = _parse(argv)
    started = time.monotonic()
    load_before = os.getloadavg()
    found = Findings(
        args.iterations, args.branches, args.memory_tasks, args.fan_out_runs, args.timeout
    )
    stores = ("sqlite", "postgres") if args.store == "both" else (args.store,)
    work = Path(tempfile.mkdtemp(prefix="podium-big-runs-"))
    versions: dict[str, str] = {}
    try:
        for store in stores:
            _run_store(store, args, work, found)
        if "fan-out" in args.parts and args.peers == "restate":
            versions = _restate(args, work, found)
    finally:
        remove(work)
    now = dt.datetime.now(dt.UTC)
    command = "python -m bench.big_runs " + shlex.join(sys.argv[1:] if argv is None else argv)
    report = render(
        found,
        when=now,
        command=command.strip(),
        code=_code(),
        took_s=time.monotonic() - started,
        load=(load_before, os.getloadavg()),
        versions=versions,
    )
    print(report)
    kind = "big-runs" + (f"-{args.label}" if args.label else "")
    path = write_report(args.out, now, kind, report)
    print(f"written to {path}")
    return path


if __name__ == "__main__":
    main()
