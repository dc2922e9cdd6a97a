"""When a schedule ticks and what a tick does: pure functions over a `ScheduleSpec`.

No clock, no store: the caller passes `now_ms`. A tick's nominal time (before jitter) is the
run's identity, so that a tick acted on twice still starts one run.

Daylight saving time (cron in a zone with DST) follows Vixie cron, which is what Conductor's
users expect of a cron: the wall-clock times the spring change skips fire once, at the instant
the clocks jump (02:30 in Europe/Berlin on 2026-03-29 fires at 03:00 CEST); a fixed-time tick in
the repeated autumn hour fires once, at its first occurrence; a tick whose minute or hour field
is a wildcard fires in both passes of that hour, so an hourly cron fires every real hour.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from podium.schedules.cron import cron_iter, is_fixed_time, validate_cron
from podium.schedules.spec import Catchup, Overlap, ScheduleSpec

__all__ = [
    "GRACE_MS",
    "MAX_BUFFERED",
    "MAX_DUE_TICKS",
    "OverlapAction",
    "due_ticks",
    "jitter_ms",
    "next_ticks",
    "overlap_action",
    "previous_ticks",
    "should_pause",
    "validate_cron",
]

# A tick this late is still "now": the runner's own poll interval and a slow commit must not make
# a schedule without catch-up miss the tick it is acting on. No catch-up window is shorter.
GRACE_MS = 60_000
# Catching up a per-second cron after a long outage would start millions of runs: at most this
# many of the newest missed ticks are run.
MAX_DUE_TICKS = 1000
# Temporal's bound on BUFFER_ALL's queue; ticks beyond it are skipped.
MAX_BUFFERED = 1000


class OverlapAction(StrEnum):
    """What the runner does with a tick, given the overlap policy and the runs in flight."""

    START = "START"
    SKIP = "SKIP"
    BUFFER = "BUFFER"
    CANCEL_THEN_START = "CANCEL_THEN_START"
    TERMINATE_THEN_START = "TERMINATE_THEN_START"


def next_ticks(
    spec: ScheduleSpec, after_ms: int, limit: int, until_ms: int | None = None
) -> list[int]:
    """Nominal tick times strictly after `after_ms`, oldest first, at most `limit`.

    Only ticks within the schedule's start and end (both inclusive) and at or before `until_ms`.
    """
    last = _bound(spec.end_ms, until_ms)
    if spec.start_ms is not None:
        after_ms = max(after_ms, spec.start_ms - 1)
    if limit <= 0 or (last is not None and last <= after_ms):
        return []
    if spec.interval_ms is not None:
        return _interval_forward(spec, spec.interval_ms, after_ms, limit, last)
    return _cron_forward(spec, after_ms, limit, last)


def previous_ticks(spec: ScheduleSpec, at_ms: int, since_ms: int, limit: int) -> list[int]:
    """Nominal tick times in `(since_ms, at_ms]`, newest first, at most `limit`."""
    if spec.end_ms is not None:
        at_ms = min(at_ms, spec.end_ms)
    if spec.start_ms is not None:
        since_ms = max(since_ms, spec.start_ms - 1)
    if limit <= 0 or at_ms <= since_ms:
        return []
    if spec.interval_ms is not None:
        return _interval_back(spec, spec.interval_ms, at_ms, since_ms, limit)
    return _cron_back(spec, at_ms, since_ms, limit)


def due_ticks(spec: ScheduleSpec, last_ms: int | None, now_ms: int) -> list[int]:
    """The ticks in `(last_ms, now_ms]` the runner should act on, oldest first.

    `last_ms` is the newest tick already acted on, or the `now_ms` of the runner's previous
    call (None for a schedule just created, which catches nothing up from before it was made). The catch-up policy picks among them:
    ALL every tick within the catch-up window of now (at most `MAX_DUE_TICKS`, the newest),
    LATEST only the newest of those, NONE only a tick within `GRACE_MS` of now.
    """
    if last_ms is None:
        last_ms = max(now_ms, spec.start_ms or 0) - 1
    window = GRACE_MS if spec.catchup is Catchup.NONE else max(spec.catchup_window_ms, GRACE_MS)
    # A tick exactly `window` old is still within it.
    since = max(last_ms, now_ms - window - 1)
    limit = MAX_DUE_TICKS if spec.catchup is Catchup.ALL else 1
    return previous_ticks(spec, now_ms, since, limit)[::-1]


def jitter_ms(spec: ScheduleSpec, schedule_name: str, nominal_ms: int) -> int:
    """How long after its nominal time a tick starts its run: in `[0, spec.jitter_ms]`.

    Derived from the schedule's name and the tick, so that every instance, and a retry after a
    crash, waits the same for the same tick, while schedules sharing a cron spread out. As in
    Temporal, the delay stops short of the schedule's following tick, so runs keep their order.
    """
    bound = spec.jitter_ms
    if bound <= 0:
        return 0
    following = next_ticks(spec, nominal_ms, 1)
    if following:
        bound = min(bound, following[0] - nominal_ms - 1)
    digest = hashlib.sha256(f"{schedule_name}\0{nominal_ms}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (bound + 1)


def overlap_action(overlap: Overlap, running: int, buffered: int) -> OverlapAction:
    """What a tick does while `running` runs of its schedule are open and `buffered` wait.

    As Temporal's overlap policies: BUFFER_ONE keeps the first tick that waits and skips later
    ones; BUFFER_ALL keeps up to `MAX_BUFFERED`; CANCEL_OTHER and TERMINATE_OTHER end the open
    run before starting the tick's.
    """
    if running <= 0 and buffered <= 0:
        return OverlapAction.START
    match overlap:
        case Overlap.ALLOW_ALL:
            return OverlapAction.START
        case Overlap.SKIP:
            return OverlapAction.SKIP
        case Overlap.BUFFER_ONE:
            return OverlapAction.BUFFER if buffered <= 0 else OverlapAction.SKIP
        case Overlap.BUFFER_ALL:
            return OverlapAction.BUFFER if buffered < MAX_BUFFERED else OverlapAction.SKIP
        case Overlap.CANCEL_OTHER:
            return OverlapAction.CANCEL_THEN_START if running > 0 else OverlapAction.START
        case Overlap.TERMINATE_OTHER:
            return OverlapAction.TERMINATE_THEN_START if running > 0 else OverlapAction.START


def should_pause(spec: ScheduleSpec, consecutive_failures: int) -> bool:
    """Whether a schedule pauses itself after this many of its runs failed in a row."""
    return spec.pause_after_failures is not None and consecutive_failures >= (
        spec.pause_after_failures
    )


def _bound(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _interval_forward(
    spec: ScheduleSpec, interval: int, after_ms: int, limit: int, last: int | None
) -> list[int]:
    anchor = spec.start_ms or 0
    k = max(0, (after_ms - anchor) // interval + 1)
    ticks: list[int] = []
    while len(ticks) < limit:
        tick = anchor + k * interval
        if last is not None and tick > last:
            break
        ticks.append(tick)
        k += 1
    return ticks


def _interval_back(
    spec: ScheduleSpec, interval: int, at_ms: int, since_ms: int, limit: int
) -> list[int]:
    anchor = spec.start_ms or 0
    k = (at_ms - anchor) // interval
    ticks: list[int] = []
    while k >= 0 and len(ticks) < limit:
        tick = anchor + k * interval
        if tick <= since_ms:
            break
        ticks.append(tick)
        k -= 1
    return ticks


def _cron_forward(spec: ScheduleSpec, after_ms: int, limit: int, last: int | None) -> list[int]:
    assert spec.cron is not None
    zone = ZoneInfo(spec.zone)
    # Cron ticks fall on whole seconds: "after after_ms" is "after its whole second".
    it = cron_iter(spec.cron, spec.zone, _at_second(after_ms // 1000))
    fixed = is_fixed_time(spec.cron)
    ticks: list[int] = []
    while len(ticks) < limit:
        second = int(it.get_next(float))
        if last is not None and second * 1000 > last:
            break
        if not (fixed and _repeated(second, zone)):
            ticks.append(second * 1000)
    return ticks


def _cron_back(spec: ScheduleSpec, at_ms: int, since_ms: int, limit: int) -> list[int]:
    assert spec.cron is not None
    zone = ZoneInfo(spec.zone)
    # croniter's get_prev is strictly before its start: start one second past at_ms's second.
    it = cron_iter(spec.cron, spec.zone, _at_second(at_ms // 1000 + 1))
    fixed = is_fixed_time(spec.cron)
    ticks: list[int] = []
    while len(ticks) < limit:
        second = int(it.get_prev(float))
        if second * 1000 <= since_ms:
            break
        if not (fixed and _repeated(second, zone)):
            ticks.append(second * 1000)
    return ticks


def _at_second(second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC)


def _repeated(second: int, zone: ZoneInfo) -> bool:
    # fold=1 marks the second occurrence of a wall-clock time the autumn change repeats.
    return datetime.fromtimestamp(second, zone).fold == 1
