"""The big-run benchmarks' Markdown report: numbers, targets and whether each is met."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bench.big_runs.fan_out import FAN_OUT_TARGETS
from bench.big_runs.loop import LOOP_TARGET, LoopResult
from bench.big_runs.memory import MEMORY_TARGET, MemoryResult
from bench.run import _machine

TARGET_ITERATIONS = 10_000
TARGET_BRANCHES = 1000
TARGET_TASKS = 10_000
STORE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(slots=True)
class Findings:
    """What one invocation measured; a part that failed has its reason under ``errors``."""

    iterations: int
    branches: int
    memory_tasks: int
    fan_out_runs: int
    timeout: float
    loops: dict[str, LoopResult] = field(default_factory=dict)
    fan_outs: dict[str, dict[str, Any]] = field(default_factory=dict)
    memory: dict[str, MemoryResult] = field(default_factory=dict)
    restate: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def _sizes_note(found: Findings) -> list[str]:
    notes = []
    for what, size, target in (
        ("DO_WHILE iterations", found.iterations, TARGET_ITERATIONS),
        ("fan-out branches", found.branches, TARGET_BRANCHES),
        ("tasks in the memory run", found.memory_tasks, TARGET_TASKS),
    ):
        if size != target:
            notes.append(f"{what}: {size:,}, not the targets' {target:,}")
    if not notes:
        return ["Sizes are the targets' own."]
    return [
        "**Not the targets' sizes**, so the verdicts below are for these sizes only: "
        + "; ".join(notes)
        + "."
    ]


def render(
    found: Findings,
    *,
    when: dt.datetime,
    command: str,
    code: str,
    took_s: float,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    versions: dict[str, str],
) -> str:
    lines = [
        f"# Big runs, {when:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`; took {took_s / 60:.1f} min.",
        f"Code: {code}.",
        f"Machine: {_machine()}. Load average (1/5/15 min) at start "
        f"{'/'.join(f'{x:.2f}' for x in load[0])}, at end {'/'.join(f'{x:.2f}' for x in load[1])}"
        ": the cores are shared, so numbers vary between runs.",
        "One Podium server and one worker process (`podium worker bench.workers`, the no-op task,"
        " results over update-batch) per store, on loopback; PostgreSQL in a database made for"
        " the run and dropped after it. Loop, task and fork-width limits raised to the sizes.",
        "",
        *_sizes_note(found),
        "",
    ]
    lines += _loops(found) + _fan_outs(found) + _memory(found) + _targets(found)
    if found.errors:
        lines += ["## What could not run", ""]
        lines += [f"- {part}: {why}" for part, why in found.errors.items()] + [""]
    if versions:
        lines += ["Peer versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))]
        lines += [""]
    return "\n".join(lines)


def _loops(found: Findings) -> list[str]:
    if not found.loops:
        return []
    lines = [
        "## DO_WHILE growth",
        "",
        f"One run of a DO_WHILE of {found.iterations:,} iterations of one SIMPLE task, no"
        " keepLastN, after a 3-iteration run that warms up. ms per iteration from the tasks' end"
        " times as the server stamped them: the first tenth from the end of iteration 1, the"
        " last tenth from the end of the iteration before it.",
        "",
        "| store | iterations | run s | first tenth ms/iter | last tenth ms/iter | last/first |",
        "|---|---|---|---|---|---|",
    ]
    for store, r in found.loops.items():
        lines.append(
            f"| {STORE_NAMES[store]} | {r.iterations:,} | {r.total_s:.1f} | {r.first_ms:.2f} "
            f"| {r.last_ms:.2f} | {r.ratio:.2f}x |"
        )
    return [*lines, ""]


def _fan_outs(found: Findings) -> list[str]:
    if not found.fan_outs and found.restate is None:
        return []
    lines = [
        "## Fan-out",
        "",
        f"A FORK_JOIN_DYNAMIC of {found.branches:,} SIMPLE branches and its JOIN, one worker;"
        f" median of {found.fan_out_runs} run(s) after one that warms up. Podium: the run's end -"
        " start as the server stamped them. Restate: the peers' W3 handler (one `ctx.run` per"
        " branch, gathered) at the same width, the call's wall time through its ingress.",
        "",
        "| engine | median ms | runs ms |",
        "|---|---|---|",
    ]
    for store, r in found.fan_outs.items():
        runs = ", ".join(f"{x:.0f}" for x in r["runs_ms"])
        lines.append(f"| Podium ({STORE_NAMES[store]}) | {r['median_ms']:.0f} | {runs} |")
    if found.restate is not None:
        if "median_ms" in found.restate:
            lines.append(f"| Restate | {found.restate['median_ms']:.0f} | |")
        else:
            lines.append(f"| Restate | could not run: {found.restate.get('error')} | |")
    return [*lines, ""]


def _memory(found: Findings) -> list[str]:
    if not found.memory:
        return []
    lines = [
        "## Memory per cached run",
        "",
        f"A run of a dynamic fork of {found.memory_tasks:,} branches, completed, its JOIN and a"
        " one-day WAIT (RUNNING, so cacheable). With the server stopped, the same store is"
        " opened in-process through the store API and the run read (`tx.get_run`) under"
        " tracemalloc: held is what stays allocated after `gc.collect()` with the state"
        " referenced (the decoded state, plus the stored bytes when the run cache keeps the"
        " entry); peak is the most allocated while reading. Stored is the length of every value"
        " in the run's rows, in every table with a `run_id` column (PostgreSQL's on-disk size,"
        " after TOAST compression, beside it).",
        "",
        "| store | tasks | stored bytes | PG on disk | held bytes | peak bytes | held/stored |"
        " kept by the run cache |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for store, r in found.memory.items():
        disk = f"{r.stored_on_disk_bytes:,}" if r.stored_on_disk_bytes is not None else ""
        cached = {True: "yes", False: "no", None: "unknown"}[r.cached]
        lines.append(
            f"| {STORE_NAMES[store]} | {r.tasks:,} | {r.stored_bytes:,} | {disk} "
            f"| {r.held_bytes:,} | {r.peak_bytes:,} | {r.ratio:.2f}x | {cached} |"
        )
    return [*lines, ""]


def _targets(found: Findings) -> list[str]:
    rows: list[str] = []
    for store, r in found.loops.items():
        rows.append(
            f"| DO_WHILE last/first tenth <= {LOOP_TARGET}, {STORE_NAMES[store]} "
            f"| {r.ratio:.2f}x | {_yes(r.ratio <= LOOP_TARGET)} |"
        )
    restate_ms = (found.restate or {}).get("median_ms")
    for store, fan_out in found.fan_outs.items():
        bound = FAN_OUT_TARGETS[store]
        label = f"fan-out Podium/Restate <= {bound}, {STORE_NAMES[store]}"
        if restate_ms:
            ratio = fan_out["median_ms"] / restate_ms
            rows.append(f"| {label} | {ratio:.2f}x | {_yes(ratio <= bound)} |")
        else:
            rows.append(f"| {label} | no Restate figure | not judged |")
    for store, m in found.memory.items():
        rows.append(
            f"| memory held/stored <= {MEMORY_TARGET}, {STORE_NAMES[store]} "
            f"| {m.ratio:.2f}x | {_yes(m.ratio <= MEMORY_TARGET)} |"
        )
    if not rows:
        return []
    return ["## Targets", "", "| target | measured | met |", "|---|---|---|", *rows, ""]
