"""WAIT durations and points in time, and retry delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from podium.dsl.durations import parse_duration_s, parse_until_ms
from podium.dsl.models import TaskDef
from podium.engine.timing import retry_delay_s


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("30", 30),
        ("0", 0),
        ("1.5", 1.5),
        ("  45  ", 45),
        ("500ms", 0.5),
        ("1 sec", 1),
        ("2 secs", 2),
        ("1 second", 1),
        ("10 seconds", 10),
        ("5m", 300),
        ("5 min", 300),
        ("5 mins", 300),
        ("1 minute", 60),
        ("5 minutes", 300),
        ("2h", 7200),
        ("1 hr", 3600),
        ("3 hrs", 10800),
        ("1 hour", 3600),
        ("2 hours", 7200),
        ("1d", 86400),
        ("1 day", 86400),
        ("2 days", 172800),
        ("1d 2h", 93600),
        ("1d2h", 93600),
        ("1h 30m 15s", 5415),
        ("1.5h", 5400),
        ("0.5 minutes", 30),
        ("2H", 7200),
        ("10 Seconds", 10),
        ("1h 1h", 7200),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration_s(text) == pytest.approx(seconds)
    assert isinstance(parse_duration_s(text), float)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "soon", "5 parsecs", "5s x", "s5", "-5s", "5 s s", "1,5h", "1e3", "PT5M", "5s-"],
)
def test_unreadable_durations_raise_value_error(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration_s(text)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-23 15:00 UTC", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        ("2026-11-23 15:00 utc", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        ("2026-11-23T15:00:00Z", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        ("2026-11-23T15:00:00.250Z", datetime(2026, 11, 23, 15, 0, 0, 250_000, tzinfo=UTC)),
        ("2026-11-23T15:00:00+00:00", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        ("2026-11-23T17:00:00+02:00", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        (
            "2026-11-23T10:00:00-05:00",
            datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
        ),
        ("2026-11-23 15:00", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        ("2026-11-23T15:00:00", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        ("2026-11-23", datetime(2026, 11, 23, tzinfo=UTC)),
        ("  2026-11-23 15:00 UTC  ", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_until(text, moment):
    assert parse_until_ms(text) == _ms(moment)


def test_parse_until_known_value():
    assert parse_until_ms("2026-11-23 15:00 UTC") == 1_795_446_000_000
    assert parse_until_ms("1970-01-01T00:00:01Z") == 1_000


@pytest.mark.parametrize(
    "text", ["", "tomorrow", "next tuesday", "2026-13-01", "2026-11-31", "23/11/2026", "15:00 UTC"]
)
def test_unreadable_times_raise_value_error(text):
    with pytest.raises(ValueError, match="cannot read time"):
        parse_until_ms(text)


@pytest.mark.parametrize(
    ("logic", "delay", "scale", "expected"),
    [
        ("FIXED", 60, 1, [60, 60, 60, 60]),
        ("FIXED", 10, 5, [10, 10, 10, 10]),
        ("FIXED", 0, 1, [0, 0, 0, 0]),
        ("LINEAR_BACKOFF", 10, 1, [10, 20, 30, 40]),
        ("LINEAR_BACKOFF", 10, 3, [30, 60, 90, 120]),
        ("LINEAR_BACKOFF", 0, 3, [0, 0, 0, 0]),
        ("EXPONENTIAL_BACKOFF", 1, 1, [1, 2, 4, 8]),
        ("EXPONENTIAL_BACKOFF", 10, 1, [10, 20, 40, 80]),
        ("EXPONENTIAL_BACKOFF", 5, 2, [10, 20, 40, 80]),
        ("EXPONENTIAL_BACKOFF", 0, 2, [0, 0, 0, 0]),
    ],
)
def test_retry_delay(logic, delay, scale, expected):
    task_def = TaskDef(
        name="t", retryLogic=logic, retryDelaySeconds=delay, backoffScaleFactor=scale
    )
    assert [retry_delay_s(task_def, attempt) for attempt in range(4)] == expected
    assert all(isinstance(retry_delay_s(task_def, a), int) for a in range(4))


def test_retry_delay_defaults_are_conductors():
    assert retry_delay_s(TaskDef(name="t"), 0) == 60
    assert retry_delay_s(TaskDef(name="t"), 7) == 60


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2022-12-25 09:00 PST", "2022-12-25T17:00:00"),
        ("2022-07-01 09:00 PDT", "2022-07-01T16:00:00"),
        ("2022-12-25 09:00 EST", "2022-12-25T14:00:00"),
        ("2022-12-25 09:00 GMT+04:00", "2022-12-25T05:00:00"),
        ("2022-12-25 09:00 GMT-0330", "2022-12-25T12:30:00"),
        ("2022-12-25 9:00 utc", "2022-12-25T09:00:00"),
        ("2022-07-01 09:00 Europe/Paris", "2022-07-01T07:00:00"),
        ("2022-12-25 09:00:30 UTC", "2022-12-25T09:00:30"),
    ],
)
def test_until_reads_the_zones_conductors_date_pattern_takes(text, utc):
    # Conductor's WAIT reads ``until`` as Java's ``yyyy-MM-dd HH:mm z``.
    expected = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert parse_until_ms(text) == int(expected.timestamp() * 1000)


def test_an_unknown_zone_is_refused_naming_the_forms():
    with pytest.raises(ValueError, match="'yyyy-MM-dd HH:mm z'"):
        parse_until_ms("2022-12-25 09:00 Mars/Olympus")
