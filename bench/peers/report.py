"""The peers suite's Markdown report: tables, ratios Podium/peer, the targets and the profile."""

from __future__ import annotations

import datetime as dt
import math
import os
from typing import Any

from bench.peers.common import Outcome, Sizes
from bench.run import _machine


def _num(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _get(outcome: Outcome, workload: str, key: str) -> float | None:
    value = outcome.results.get(workload, {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b:
        return "-"
    return f"{a / b:.2f}x"


def _w4_cells(outcome: Outcome) -> tuple[str, str, str]:
    w4 = outcome.results.get("W4")
    if not w4:
        return "-", "-", "-"
    rss = ", ".join(
        f"{int(k):,}: {v:.0f}" for k, v in sorted(w4["rss_mb"].items(), key=lambda kv: int(kv[0]))
    )
    parked = f"{w4['parked']:,}" + ("" if w4["parked"] >= w4["asked"] else f" of {w4['asked']:,}")
    return parked, f"{w4['starts_per_s']:,.0f}/s ({w4['start_s']:.0f} s)", rss


def _row(outcome: Outcome, durable: str) -> str:
    w2 = outcome.results.get("W2", {})
    spread = f" ({w2['low']:,.0f}-{w2['high']:,.0f})" if w2 and w2["low"] != w2["high"] else ""
    parked, rate, rss = _w4_cells(outcome)
    return (
        f"| {outcome.name} | {durable} | {_num(_get(outcome, 'W1', 'median_ms_per_step'), 2)} | "
        f"{_num(_get(outcome, 'W1', 'p95_ms_per_step'), 2)} | "
        f"{_num(_get(outcome, 'W2', 'steps_per_s'))}{spread} | "
        f"{_num(_get(outcome, 'W3', 'median_ms'))} | {parked} | {rate} | {rss} |"
    )


def _passes(outcomes: list[Outcome]) -> list[str]:
    """Each engine's W1 and W2 in every pass, with the machine's speed when the pass began."""
    count = max((len(o.results.get("cpu", {}).get("passes") or []) for o in outcomes), default=0)
    if count < 2:
        return ["W1 and W2 ran once (`--passes 1` or `--quick`)."]
    heads = [f"pass {n}" for n in range(1, count + 1)]
    rows = [
        f"W1 and W2 ran in {count} passes, each taking the engines in the opposite order to the "
        "one before (Podium first, then last, ...); the figures above are the mean of the "
        "passes. The CPU probe is the time a fixed pure-Python loop took just before the "
        "engine's pass: the same work, so a higher number means a slower machine at that time.",
        "",
        "| engine | "
        + " | ".join(f"W1 ms/step, {h}" for h in heads)
        + " | "
        + " | ".join(f"W2 steps/s, {h}" for h in heads)
        + " | "
        + " | ".join(f"CPU probe ms, {h}" for h in heads)
        + " |",
        "|---|" + "---|" * (3 * count),
    ]
    for outcome in outcomes:
        cells = []
        for label, digits in (("W1", 2), ("W2", 0), ("cpu", 0)):
            passes = list(outcome.results.get(label, {}).get("passes") or [])
            passes += [None] * (count - len(passes))
            cells += [_num(value, digits) for value in passes]
        rows.append(f"| {outcome.name} | " + " | ".join(cells) + " |")
    return rows


def _best(peers: list[Outcome], workload: str, key: str, low: bool) -> Outcome | None:
    with_value = [p for p in peers if _get(p, workload, key) is not None]
    if not with_value:
        return None
    pick = min if low else max
    return pick(with_value, key=lambda p: _get(p, workload, key) or 0.0)


def _targets(podium: list[Outcome], peers: dict[str, tuple[Outcome, bool]]) -> list[str]:
    sqlite, postgres = podium
    durable = [o for o, d in peers.values() if d]
    on_postgres = [o for o, d in peers.values() if d and "PostgreSQL" in o.name]
    rows = ["| target | Podium | reference | met | margin |", "|---|---|---|---|---|"]

    def line(
        name: str, value: float | None, ref: float | None, ref_name: str, ok_if_low: bool
    ) -> None:
        if value is None or ref is None:
            rows.append(
                f"| {name} | {_num(value, 2)} | {ref_name}: {_num(ref, 2)} | not measured | |"
            )
            return
        met = value <= ref if ok_if_low else value >= ref
        margin = (value / ref - 1) * 100
        rows.append(
            f"| {name} | {value:,.2f} | {ref_name}: {ref:,.2f} | {'yes' if met else 'NO'} | "
            f"{margin:+.0f}% of the bound |"
        )

    fastest_w1 = _best(durable, "W1", "median_ms_per_step", low=True)
    w1_ref = _get(fastest_w1, "W1", "median_ms_per_step") if fastest_w1 else None
    line(
        "W1 ms/step, SQLite <= 1/3 fastest durable peer",
        _get(sqlite, "W1", "median_ms_per_step"),
        w1_ref / 3 if w1_ref else None,
        f"1/3 of {fastest_w1.name if fastest_w1 else '?'}",
        ok_if_low=True,
    )
    line(
        "W1 ms/step, PostgreSQL <= 1/3 fastest durable peer",
        _get(postgres, "W1", "median_ms_per_step"),
        w1_ref / 3 if w1_ref else None,
        f"1/3 of {fastest_w1.name if fastest_w1 else '?'}",
        ok_if_low=True,
    )
    fastest_w2 = _best(durable, "W2", "steps_per_s", low=False)
    w2_ref = _get(fastest_w2, "W2", "steps_per_s") if fastest_w2 else None
    line(
        "W2 steps/s, SQLite >= 2x fastest durable peer",
        _get(sqlite, "W2", "steps_per_s"),
        w2_ref * 2 if w2_ref else None,
        f"2x {fastest_w2.name if fastest_w2 else '?'}",
        ok_if_low=False,
    )
    fastest_pg = _best(on_postgres, "W2", "steps_per_s", low=False)
    pg_ref = _get(fastest_pg, "W2", "steps_per_s") if fastest_pg else None
    line(
        "W2 steps/s, PostgreSQL >= 5x fastest durable peer on PostgreSQL",
        _get(postgres, "W2", "steps_per_s"),
        pg_ref * 5 if pg_ref else None,
        f"5x {fastest_pg.name if fastest_pg else '?'}",
        ok_if_low=False,
    )
    for outcome in podium:
        w4 = outcome.results.get("W4")
        if not w4:
            continue
        marks = sorted(
            ((int(k), v) for k, v in w4["rss_mb"].items() if int(k)), key=lambda kv: kv[0]
        )
        if not marks:
            continue
        count, top = marks[-1]
        line(f"W4 server RSS MB at {count:,} parked, {outcome.name}", top, 300.0, "300 MB", True)
        first_count, first = marks[0]
        growth = (top - first) / max(1, count - first_count) * 1000
        rows.append(
            f"| W4 flat as the count grows, {outcome.name} | {first:.0f} MB at {first_count:,} -> "
            f"{top:.0f} MB at {count:,} | | {'yes' if growth < 0.5 else 'NO'} | "
            f"{growth:.2f} MB per 1,000 runs |"
        )
    return rows


def _ratios(podium: list[Outcome], peers: dict[str, tuple[Outcome, bool]]) -> list[str]:
    sqlite, postgres = podium
    rows = [
        "| peer | W1 SQLite/peer | W1 PG/peer | W2 SQLite/peer | W2 PG/peer | W3 SQLite/peer | "
        "W3 PG/peer | W4 start rate SQLite/peer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for outcome, _ in peers.values():

        def r(podium_run: Outcome, workload: str, key: str, peer: Outcome = outcome) -> str:
            return _ratio(_get(podium_run, workload, key), _get(peer, workload, key))

        rows.append(
            f"| {outcome.name} | {r(sqlite, 'W1', 'median_ms_per_step')} | "
            f"{r(postgres, 'W1', 'median_ms_per_step')} | {r(sqlite, 'W2', 'steps_per_s')} | "
            f"{r(postgres, 'W2', 'steps_per_s')} | {r(sqlite, 'W3', 'median_ms')} | "
            f"{r(postgres, 'W3', 'median_ms')} | {r(sqlite, 'W4', 'starts_per_s')} |"
        )
    return rows


def _profile(store: str, profiled: dict[str, Any]) -> list[str]:
    if "error" in profiled:
        return [f"Not profiled on {store}: {profiled['error']}"]
    cpu = profiled["cpu_ms"]
    server = max(cpu["server"], 1e-9)
    groups = ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu.items())
    rows = [
        f"### {store}",
        "",
        f"py-spy, {profiled['seconds']} s at 200 Hz on the server during 3 W2 rounds "
        f"({profiled['w2']['steps_per_s']:,.0f} steps/s while sampled; on-CPU samples only). "
        f"CPU per step (user + system): {groups}; the server process alone saturates one core "
        f"at {1000 / server:,.0f} steps/s, and all of it together "
        f"{(os.cpu_count() or 1) * 1000 / max(sum(cpu.values()), 1e-9):,.0f} steps/s on "
        f"{os.cpu_count()} cores.",
        "",
        "| self % | function | | total % | function |",
        "|---|---|---|---|---|",
    ]
    for (own, own_pct), (tot, tot_pct) in zip(profiled["self"], profiled["total"], strict=False):
        rows.append(f"| {own_pct:.1f} | `{own}` | | {tot_pct:.1f} | `{tot}` |")
    return [*rows, ""]


def _profiles(profiled: dict[str, dict[str, Any]]) -> list[str]:
    if not profiled:
        return ["Not profiled in this run (`--no-profile`)."]
    return [
        "Self is the share of samples with the function on top of the stack; total, with one of "
        "Podium's functions anywhere on it. PostgreSQL's CPU is the whole database server's, "
        "which other work on this machine may share.",
        "",
        *(line for store, one in profiled.items() for line in _profile(store, one)),
    ]


def render(
    *,
    when: dt.datetime,
    command: str,
    sizes: Sizes,
    floor: dict[str, Any],
    podium: list[Outcome],
    peers: dict[str, tuple[Outcome, bool]],
    profiled: dict[str, dict[str, Any]],
    versions: dict[str, str],
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
    took_s: float,
) -> str:
    failures = [
        f"- {o.name}: " + "; ".join(f"{k}: {v}" for k, v in o.errors.items())
        for o in [*podium, *(p for p, _ in peers.values())]
        if o.errors
    ]
    notes = [f"- {o.name}: {n}" for o, _ in peers.values() for n in o.notes]
    before, after = load
    lines = [
        f"# Podium and peer engines, {when:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}` (`make bench`); took {took_s / 60:.0f} min.",
        f"Machine: {_machine()}. Load average (1/5/15 min) at start "
        f"{before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f}, at end {after[0]:.2f}/{after[1]:.2f}/"
        f"{after[2]:.2f}: the cores are shared, so numbers vary between runs.",
        "Engines ran one at a time, each on loopback, started and stopped by its script. "
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
        "",
        f"Sizes: W1 {sizes.w1_runs} runs x {sizes.w1_steps} sequential steps (2 warm-up runs "
        f"first); W2 {sizes.w2_runs} concurrent {sizes.w2_steps}-step runs, median of "
        f"{sizes.w2_rounds} round(s); W3 one fan-out of {sizes.w3_branches} parallel steps and a "
        f"join, median of {sizes.w3_runs} runs; W4 {sizes.parked:,} runs parked on a one-day wait, "
        f"32 starts in flight. Podium starts all {sizes.parked:,}; a peer stops starting after "
        f"{sizes.w4_budget_s:.0f} s and reports the count it reached.",
        "",
        "## The machine's floor (same run)",
        "",
        "| fsync/s (temp file) | SQLite WAL commits/s, FULL | SQLite WAL commits/s, NORMAL | "
        "PostgreSQL commits/s (1 connection) |",
        "|---|---|---|---|",
        f"| {_num(floor['fsync_per_s'])} | {_num(floor['sqlite_full_commits_per_s'])} | "
        f"{_num(floor['sqlite_normal_commits_per_s'])} | {_num(floor['postgres_commits_per_s'])} |",
        "",
        f"PostgreSQL: {floor.get('postgres_settings', '?')}.",
        "",
        "## Results",
        "",
        "W1 is per step (ms); W2 steps/s (range over rounds); W3 ms for the whole fan-out and join; "
        "W4 how many were parked, the start rate, and server RSS in MB at each count.",
        "",
        "| engine | durable per step | W1 median | W1 p95 | W2 steps/s | W3 ms | W4 parked | "
        "W4 starts | W4 RSS MB by count |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_row(o, "yes (SQLite FULL)" if "SQLite" in o.name else "yes") for o in podium),
        *(_row(o, "yes" if d else "no") for o, d in peers.values()),
        "",
        *_passes([*podium, *(o for o, _ in peers.values())]),
        "",
        "## Ratios Podium/peer",
        "",
        "W1 and W3 are times (below 1.00x: Podium faster); W2 and W4 are rates (above 1.00x: "
        "Podium faster).",
        "",
        *_ratios(podium, peers),
        "",
        "## Targets",
        "",
        *_targets(podium, peers),
        "",
        "## Profile: Podium's server under W2",
        "",
        *_profiles(profiled),
        "",
        "## Could not run, or failed",
        "",
        *(failures or ["Every engine ran every workload."]),
        "",
        "## Notes",
        "",
        "- Podium W1/W3 come from the server's own run timestamps and W2 from the first start to "
        "the last end; the peers are timed by their client from start to result, which adds one "
        "loopback round trip per run.",
        "- Celery + Redis is listed for scale but is not a durable workflow engine: a chain's "
        "progress is in broker messages and Redis fsyncs its append-only file once a second.",
        "- Temporal's dev server keeps its state in a SQLite file (`--db-filename`).",
        *notes,
        "",
    ]
    return "\n".join(lines)
