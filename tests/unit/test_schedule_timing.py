"""Schedule timing: cron and interval ticks, DST, catch-up, jitter and overlap policies."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from podium.schedules import (
    Catchup,
    Overlap,
    OverlapAction,
    ScheduleSpec,
    SpecError,
    due_ticks,
    jitter_ms,
    next_ticks,
    overlap_action,
    validate_cron,
)
from podium.schedules.timing import (
    GRACE_MS,
    MAX_BUFFERED,
    MAX_DUE_TICKS,
    previous_ticks,
    should_pause,
)

HOUR = 3600 * 1000
MINUTE = 60 * 1000
DAY = 24 * HOUR
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def ms(year: int, month: int, day: int, *hms: int, tz: ZoneInfo | None = None) -> int:
    hour, minute, second = (*hms, 0, 0, 0)[:3]
    moment = datetime(year, month, day, hour, minute, second, tzinfo=tz or UTC)
    return int(moment.timestamp() * 1000)


def wall(tick: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(tick / 1000, tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def cron(expr: str, zone: str = "UTC", **kw: Any) -> ScheduleSpec:
    return ScheduleSpec(cron=expr, interval_ms=None, zone=zone, **kw)


def every(interval_ms: int, **kw: Any) -> ScheduleSpec:
    return ScheduleSpec(cron=None, interval_ms=interval_ms, **kw)


# --- cron expressions ------------------------------------------------------------------------


def test_six_fields_are_seconds_first():
    ticks = next_ticks(cron("30 15 10 * * ?"), ms(2026, 12, 4), 2)
    assert ticks == [ms(2026, 12, 4, 10, 15, 30), ms(2026, 12, 5, 10, 15, 30)]


def test_five_fields_are_unix_cron_at_second_zero():
    assert next_ticks(cron("*/15 * * * *"), ms(2026, 12, 4, 12, 0, 1), 3) == [
        ms(2026, 12, 4, 12, 15),
        ms(2026, 12, 4, 12, 30),
        ms(2026, 12, 4, 12, 45),
    ]


def test_question_mark_and_names():
    # 2026-12-04 is a Friday: the next weekday mornings are Monday to Wednesday.
    weekdays = next_ticks(cron("0 0 9 ? * MON-FRI", "Europe/Berlin"), ms(2026, 12, 4, 12), 3)
    assert [wall(t, BERLIN) for t in weekdays] == [
        "2026-12-07 09:00:00 CET",
        "2026-12-08 09:00:00 CET",
        "2026-12-09 09:00:00 CET",
    ]
    new_year = next_ticks(cron("0 0 0 1 JAN ?"), ms(2026, 12, 4), 2)
    assert new_year == [ms(2027, 1, 1), ms(2028, 1, 1)]


def test_cron_reads_wall_clock_time_in_its_zone():
    ticks = next_ticks(cron("0 0 9 * * *", "America/New_York"), ms(2026, 12, 4), 1)
    assert ticks == [ms(2026, 12, 4, 14)]  # 09:00 EST is 14:00 UTC


def test_ticks_are_strictly_after():
    spec = cron("0 0 * * * *")
    assert next_ticks(spec, ms(2026, 12, 4, 12), 1) == [ms(2026, 12, 4, 13)]
    assert next_ticks(spec, ms(2026, 12, 4, 12) - 1, 1) == [ms(2026, 12, 4, 12)]


@pytest.mark.parametrize(
    "expr",
    [
        "x",
        "* * *",
        "0 0 0 0 * * * *",
        "61 * * * * *",
        "0 0 25 * * *",
        "0 0 0 1 13 *",
        "0 0 0 * * FUNDAY",
        "0 0 0 30 2 ?",  # never fires
        "? ? ? ? ? ?",
    ],
)
def test_bad_cron_names_the_field(expr):
    with pytest.raises(SpecError) as caught:
        validate_cron(expr)
    assert caught.value.field == "cronExpression"
    with pytest.raises(SpecError) as caught:
        cron(expr)
    assert caught.value.field == "cronExpression"


# --- daylight saving time --------------------------------------------------------------------


def test_spring_forward_skipped_time_fires_once_when_the_clocks_jump():
    # 02:30 does not exist in Berlin on 2026-03-29 (02:00 CET becomes 03:00 CEST).
    ticks = next_ticks(cron("0 30 2 * * ?", "Europe/Berlin"), ms(2026, 3, 27, 12), 4)
    assert [wall(t, BERLIN) for t in ticks] == [
        "2026-03-28 02:30:00 CET",
        "2026-03-29 03:00:00 CEST",
        "2026-03-30 02:30:00 CEST",
        "2026-03-31 02:30:00 CEST",
    ]
    assert ticks[1] == ms(2026, 3, 29, 1)  # the instant of the change


def test_spring_forward_several_skipped_times_are_one_tick():
    ticks = next_ticks(cron("0 15,45 2 * * *", "Europe/Berlin"), ms(2026, 3, 28, 12), 3)
    assert [wall(t, BERLIN) for t in ticks] == [
        "2026-03-29 03:00:00 CEST",
        "2026-03-30 02:15:00 CEST",
        "2026-03-30 02:45:00 CEST",
    ]


def test_autumn_repeated_time_fires_once():
    # 01:30 happens twice in New York on 2026-11-01 (EDT, then EST).
    spec = cron("0 30 1 * * *", "America/New_York")
    ticks = next_ticks(spec, ms(2026, 10, 31, 12), 3)
    assert [wall(t, NEW_YORK) for t in ticks] == [
        "2026-11-01 01:30:00 EDT",
        "2026-11-02 01:30:00 EST",
        "2026-11-03 01:30:00 EST",
    ]
    # Asked from between the two 01:30s, the second one is not a tick either.
    between = ms(2026, 11, 1, 1, 45, tz=NEW_YORK)
    assert next_ticks(spec, between, 1) == [ms(2026, 11, 2, 1, 30, tz=NEW_YORK)]
    # Looking back (as catch-up does) agrees.
    assert previous_ticks(spec, ticks[-1], ms(2026, 10, 31, 12), 10) == ticks[::-1]


@pytest.mark.parametrize(
    ("zone", "start"),
    [("Europe/Berlin", ms(2026, 3, 28, 20)), ("America/New_York", ms(2026, 10, 31, 20))],
)
def test_hourly_cron_fires_every_real_hour_across_a_change(zone, start):
    spec = cron("0 0 * * * *", zone)
    ticks = next_ticks(spec, start, 24)
    assert [b - a for a, b in pairwise(ticks)] == [HOUR] * 23
    assert previous_ticks(spec, ticks[-1], start, 100) == ticks[::-1]


def test_minute_wildcard_in_the_repeated_hour_keeps_its_pace():
    spec = cron("0 */30 1 * * *", "America/New_York")
    ticks = next_ticks(spec, ms(2026, 11, 1, 0, 50, tz=NEW_YORK), 4)
    assert [wall(t, NEW_YORK) for t in ticks] == [
        "2026-11-01 01:00:00 EDT",
        "2026-11-01 01:30:00 EDT",
        "2026-11-01 01:00:00 EST",
        "2026-11-01 01:30:00 EST",
    ]


# --- intervals, start and end ----------------------------------------------------------------


def test_interval_is_anchored_at_epoch_by_default():
    spec = every(90_000)
    assert next_ticks(spec, 100_000, 3) == [180_000, 270_000, 360_000]


def test_interval_is_anchored_at_its_start_time():
    start = ms(2026, 12, 4, 12, 0, 7)
    spec = every(90_000, start_ms=start)
    assert next_ticks(spec, 0, 2) == [start, start + 90_000]
    assert next_ticks(spec, start, 2) == [start + 90_000, start + 180_000]
    assert next_ticks(spec, start + 100_000, 1) == [start + 180_000]


def test_start_and_end_are_inclusive_and_bound_the_ticks():
    start, end = ms(2026, 12, 4, 12), ms(2026, 12, 4, 15)
    spec = cron("0 0 * * * *", start_ms=start, end_ms=end)
    assert next_ticks(spec, 0, 100) == [start, start + HOUR, start + 2 * HOUR, end]
    assert next_ticks(spec, end, 100) == []
    interval = every(HOUR, start_ms=start, end_ms=end - 1)
    assert next_ticks(interval, 0, 100) == [start, start + HOUR, start + 2 * HOUR]


def test_until_and_limit():
    spec = cron("0 0 * * * *")
    base = ms(2026, 12, 4)
    assert next_ticks(spec, base, 100, until_ms=base + 3 * HOUR) == [
        base + HOUR,
        base + 2 * HOUR,
        base + 3 * HOUR,
    ]
    assert next_ticks(spec, base, 0) == []
    assert len(next_ticks(every(1000), 0, 500)) == 500


def test_next_ticks_is_fast():
    import time

    began = time.perf_counter()
    assert len(next_ticks(cron("* * * * * *", "Europe/Berlin"), ms(2026, 1, 1), 2000)) == 2000
    assert time.perf_counter() - began < 2


# --- catch-up --------------------------------------------------------------------------------


def test_due_on_time_tick():
    spec = cron("0 0 * * * *")
    tick = ms(2026, 12, 4, 12)
    assert due_ticks(spec, tick - MINUTE, tick + 500) == [tick]
    assert due_ticks(spec, tick + 500, tick + 1000) == []


def test_catchup_all_runs_every_missed_tick_within_the_window():
    spec = cron("0 0 * * * *", catchup_window_ms=5 * HOUR)
    now = ms(2026, 12, 4, 12, 10)
    since_yesterday = due_ticks(spec, now - DAY, now)
    assert since_yesterday == [ms(2026, 12, 4, h) for h in range(8, 13)]
    assert due_ticks(spec, ms(2026, 12, 4, 10, 30), now) == [
        ms(2026, 12, 4, 11),
        ms(2026, 12, 4, 12),
    ]


def test_catchup_all_keeps_the_newest_ticks_when_too_many():
    spec = every(1000)
    now = 10_000_000
    ticks = due_ticks(spec, 0, now)
    assert len(ticks) == MAX_DUE_TICKS
    assert ticks[-1] == now
    assert ticks == sorted(ticks)


def test_catchup_latest_runs_only_the_newest():
    spec = cron("0 0 * * * *", catchup=Catchup.LATEST)
    now = ms(2026, 12, 4, 12, 10)
    assert due_ticks(spec, now - DAY, now) == [ms(2026, 12, 4, 12)]
    windowed = cron("0 0 0 * * *", catchup=Catchup.LATEST, catchup_window_ms=HOUR)
    assert due_ticks(windowed, now - DAY, now) == []


def test_catchup_none_runs_only_a_tick_within_grace():
    spec = cron("0 0 * * * *", catchup=Catchup.NONE)
    tick = ms(2026, 12, 4, 12)
    assert due_ticks(spec, tick - DAY, tick + GRACE_MS) == [tick]
    assert due_ticks(spec, tick - DAY, tick + GRACE_MS + 1) == []


def test_zero_window_still_runs_the_tick_due_now():
    spec = cron("0 0 * * * *", catchup_window_ms=0)
    tick = ms(2026, 12, 4, 12)
    assert due_ticks(spec, tick - DAY, tick + 1000) == [tick]


def test_new_schedule_catches_nothing_up_from_before_it_was_made():
    spec = cron("0 0 * * * *")
    now = ms(2026, 12, 4, 12, 30)
    assert due_ticks(spec, None, now) == []
    assert due_ticks(spec, None, ms(2026, 12, 4, 12)) == [ms(2026, 12, 4, 12)]
    later = cron("0 0 * * * *", start_ms=now + HOUR)
    assert due_ticks(later, None, now) == []


def test_due_ticks_respect_start_and_end():
    start, end = ms(2026, 12, 4, 10), ms(2026, 12, 4, 11)
    spec = cron("0 0 * * * *", start_ms=start, end_ms=end)
    assert due_ticks(spec, ms(2026, 12, 4), ms(2026, 12, 4, 13)) == [start, end]


# --- jitter, overlap, pause ------------------------------------------------------------------


def test_jitter_is_within_bounds_and_deterministic():
    spec = cron("0 0 * * * *", jitter_ms=30_000)
    ticks = next_ticks(spec, ms(2026, 12, 4), 200)
    delays = [jitter_ms(spec, "nightly", t) for t in ticks]
    assert all(0 <= d <= 30_000 for d in delays)
    assert delays == [jitter_ms(spec, "nightly", t) for t in ticks]
    assert len(set(delays)) > 100  # spread, not one constant
    assert delays != [jitter_ms(spec, "hourly", t) for t in ticks]
    assert jitter_ms(cron("0 0 * * * *"), "nightly", ticks[0]) == 0


def test_jitter_stops_short_of_the_following_tick():
    spec = every(10_000, jitter_ms=60_000)
    delays = [jitter_ms(spec, "fast", t) for t in next_ticks(spec, 0, 300)]
    assert all(0 <= d < 10_000 for d in delays)
    assert max(delays) > 5_000
    # The last tick before the end has no following tick to stop short of.
    last = every(10_000, jitter_ms=60_000, end_ms=100_000)
    assert max(jitter_ms(last, str(n), 100_000) for n in range(50)) > 10_000


@pytest.mark.parametrize(
    ("overlap", "running", "buffered", "action"),
    [
        (Overlap.SKIP, 0, 0, OverlapAction.START),
        (Overlap.SKIP, 1, 0, OverlapAction.SKIP),
        (Overlap.BUFFER_ONE, 0, 0, OverlapAction.START),
        (Overlap.BUFFER_ONE, 1, 0, OverlapAction.BUFFER),
        (Overlap.BUFFER_ONE, 1, 1, OverlapAction.SKIP),
        (Overlap.BUFFER_ONE, 0, 1, OverlapAction.SKIP),
        (Overlap.BUFFER_ALL, 1, 0, OverlapAction.BUFFER),
        (Overlap.BUFFER_ALL, 1, 5, OverlapAction.BUFFER),
        (Overlap.BUFFER_ALL, 0, 5, OverlapAction.BUFFER),
        (Overlap.BUFFER_ALL, 1, MAX_BUFFERED, OverlapAction.SKIP),
        (Overlap.CANCEL_OTHER, 0, 0, OverlapAction.START),
        (Overlap.CANCEL_OTHER, 1, 0, OverlapAction.CANCEL_THEN_START),
        (Overlap.TERMINATE_OTHER, 0, 0, OverlapAction.START),
        (Overlap.TERMINATE_OTHER, 2, 0, OverlapAction.TERMINATE_THEN_START),
        (Overlap.ALLOW_ALL, 0, 0, OverlapAction.START),
        (Overlap.ALLOW_ALL, 3, 0, OverlapAction.START),
    ],
)
def test_overlap_action(overlap, running, buffered, action):
    assert overlap_action(overlap, running, buffered) is action


def test_pause_after_failures():
    spec = cron("0 0 * * * *", pause_after_failures=3)
    assert [should_pause(spec, n) for n in range(5)] == [False, False, False, True, True]
    assert not should_pause(cron("0 0 * * * *"), 100)


def test_importing_schedules_loads_no_io():
    import subprocess

    forbidden = ["podium.store", "podium.server", "fastapi", "httpx", "sqlite3", "psycopg"]
    code = (
        f"import sys, podium.schedules; print(sorted(m for m in {forbidden!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
