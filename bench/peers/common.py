"""What every peer script shares: the workload sizes, the runner, process and memory helpers.

A peer module runs under the peers' own virtualenv (the peer engines are never Podium
dependencies), so this module imports nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("PODIUM_PEERS_HOME", "/tmp/podium-peers"))
VENV = HOME / "venv"
PYTHON = VENV / "bin" / "python"


PARKED = 100_000
W4_BUDGET_S = 120.0
WORKLOADS = ("W1", "W2", "W3", "W4")
REPEATED = ("W1", "W2")
"""Run again in every later pass, the engines' order flipped each time: the machine's speed
drifts over a run."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each workload is; the same for Podium and every peer."""

    w1_runs: int = 20
    w1_steps: int = 10
    w2_runs: int = 500
    w2_steps: int = 3
    w2_rounds: int = 3
    w3_branches: int = 100
    w3_runs: int = 5
    parked: int = PARKED
    # Slow starters are stopped here and the count reached is reported with the rate.
    w4_budget_s: float = W4_BUDGET_S

    def checkpoints(self) -> list[int]:
        return sorted({max(1, self.parked // 4), self.parked // 2, self.parked})


class Peer(Protocol):
    """One engine under test. ``start`` brings up everything it needs; ``stop`` removes it."""

    name: str

    def start(self) -> None: ...
    def w1(self, sizes: Sizes) -> dict[str, Any]: ...
    def w2(self, sizes: Sizes) -> dict[str, Any]: ...
    def w3(self, sizes: Sizes) -> dict[str, Any]: ...
    def w4(self, sizes: Sizes) -> dict[str, Any]: ...
    def stop(self) -> None: ...


@dataclass(slots=True)
class Outcome:
    """A peer's numbers, or why a workload (or the whole peer) could not run."""

    name: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def per_step(durations_s: Sequence[float], steps: int) -> dict[str, float]:
    ms = [d * 1000 / steps for d in durations_s]
    return {"median_ms_per_step": statistics.median(ms), "p95_ms_per_step": percentile(ms, 0.95)}


def w4_result(count: int, elapsed_s: float, rss: dict[int, float], target: int) -> dict[str, Any]:
    return {
        "parked": count,
        "asked": target,
        "start_s": elapsed_s,
        "starts_per_s": count / elapsed_s if elapsed_s else 0.0,
        "rss_mb": {str(k): v for k, v in rss.items()},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f}s")


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, from /proc (VmRSS)."""
    total = 0.0
    for one in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a process in its own group, so that stopping it also stops whatever it started."""
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def terminate(process: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; to the whole group if the process leads one."""
    if process is None or process.poll() is not None:
        return
    try:
        leads_group = os.getpgid(process.pid) == process.pid
    except ProcessLookupError:
        return

    def send(signum: int) -> None:
        try:
            if leads_group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=timeout)


def parse_args(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json-out", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--parked", type=int, default=PARKED)
    parser.add_argument("--w4-budget", type=float, default=W4_BUDGET_S)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--variant", default="")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    return parser.parse_args()


def sizes_from(args: argparse.Namespace) -> Sizes:
    if args.quick:
        return Sizes(
            w1_runs=10, w2_rounds=1, w3_runs=3, parked=args.parked, w4_budget_s=args.w4_budget
        )
    return Sizes(parked=args.parked, w4_budget_s=args.w4_budget)


def run_workloads(
    peer: Peer, sizes: Sizes, outcome: Outcome, only: Sequence[str] = WORKLOADS
) -> None:
    """W1..W4 (those in ``only``) in turn; a workload that fails is recorded with its reason
    and the next one runs."""
    every = (("W1", peer.w1), ("W2", peer.w2), ("W3", peer.w3), ("W4", peer.w4))
    for label, workload in ((label, w) for label, w in every if label in only):
        print(f"[{peer.name}] {label} ...", file=sys.stderr, flush=True)
        try:
            outcome.results[label] = workload(sizes)
            print(f"[{peer.name}] {label} {outcome.results[label]}", file=sys.stderr, flush=True)
        except Exception as exc:
            outcome.errors[label] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()


def run_peer(make: Callable[[argparse.Namespace], Peer], description: str | None) -> None:
    """Entry point of every peer script: start, run W1..W4, stop, and write the outcome as JSON."""
    args = parse_args(description)
    args.work.mkdir(parents=True, exist_ok=True)
    peer: Peer | None = None
    outcome = Outcome(name=args.variant or "?")
    try:
        peer = make(args)
        outcome.name = peer.name
        peer.start()
        run_workloads(peer, sizes_from(args), outcome, args.workloads.split(","))
    except Exception as exc:
        outcome.errors["start"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        if peer is not None:
            try:
                peer.stop()
            except Exception:
                traceback.print_exc()
            outcome.notes.extend(getattr(peer, "notes", []))
        args.json_out.write_text(json.dumps(asdict(outcome)))
        # An engine's own threads (DBOS's, retrying a database already dropped) must not keep
        # the script alive once its outcome is written.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def cpu_probe_ms() -> float:
    """How long this machine takes, right now, for a fixed piece of pure-Python work.

    The cores are shared with other machines' work, and their speed drifts over a run; a
    probe taken before each engine's pass shows how fast the machine was while it ran.
    """
    began = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return (time.perf_counter() - began) * 1000


def merge_passes(passes: Sequence[Outcome]) -> Outcome:
    """One engine's outcome with W1 and W2 taken as the mean of its passes.

    Each pass's own figure (None where it failed) stays under ``passes``, as does each pass's
    CPU probe; everything else is the first pass's, and later passes' errors are kept under
    labels of their own.
    """
    first = passes[0]
    merged = Outcome(first.name, dict(first.results), dict(first.errors), list(first.notes))
    for label, key, spread in (
        ("W1", "median_ms_per_step", ("p95_ms_per_step",)),
        ("W2", "steps_per_s", ()),
    ):
        found = [one.results.get(label) for one in passes]
        measured = [one for one in found if one is not None]
        if not measured:
            continue
        both = {**measured[0], "passes": [one[key] if one else None for one in found]}
        for name in (key, *spread):
            both[name] = sum(one[name] for one in measured) / len(measured)
        if label == "W2":
            both["low"] = min(one["low"] for one in measured)
            both["high"] = max(one["high"] for one in measured)
        merged.results[label] = both
        merged.errors.pop(label, None)
    probes = [one.results.get("cpu", {}).get("probe_ms") for one in passes]
    merged.results["cpu"] = {"probe_ms": probes[0], "passes": probes}
    for number, one in enumerate(passes[1:], start=2):
        for label, error in one.errors.items():
            merged.errors[f"{label} (pass {number})"] = error
    return merged


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
