"""What a schedule is: when it ticks and what its policies are, read from a REST body.

A schedule is Conductor's (`SaveScheduleRequest`: a 6-field cron, a zone, a start and an end
time) with Temporal's policies added as Podium's own fields. Times are epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from podium.schedules.cron import validate_cron
from podium.schedules.errors import SpecError

__all__ = [
    "DEFAULT_CATCHUP_WINDOW_MS",
    "Catchup",
    "Overlap",
    "ScheduleSpec",
    "SpecError",
    "parse_spec",
]

DAY_MS = 24 * 3600 * 1000
# Temporal's default catch-up window: a schedule down for less than a year catches up.
DEFAULT_CATCHUP_WINDOW_MS = 365 * DAY_MS


E = TypeVar("E", bound=StrEnum)


class Overlap(StrEnum):
    """What a tick does while the schedule's previous run is still running (Temporal's names)."""

    SKIP = "SKIP"
    BUFFER_ONE = "BUFFER_ONE"
    BUFFER_ALL = "BUFFER_ALL"
    CANCEL_OTHER = "CANCEL_OTHER"
    TERMINATE_OTHER = "TERMINATE_OTHER"
    ALLOW_ALL = "ALLOW_ALL"


class Catchup(StrEnum):
    """Which ticks missed while the scheduler was down are run when it is back."""

    ALL = "ALL"
    LATEST = "LATEST"
    NONE = "NONE"


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """When a schedule ticks, and its policies. Exactly one of `cron` and `interval_ms`."""

    cron: str | None
    interval_ms: int | None
    zone: str = "UTC"
    start_ms: int | None = None
    end_ms: int | None = None
    jitter_ms: int = 0
    overlap: Overlap = Overlap.SKIP
    catchup: Catchup = Catchup.ALL
    catchup_window_ms: int = DEFAULT_CATCHUP_WINDOW_MS
    pause_after_failures: int | None = None

    def __post_init__(self) -> None:
        # A spec built in code is checked as strictly as one read from a body.
        _check(self)


def parse_spec(body: Mapping[str, Any]) -> ScheduleSpec:
    """Read the timing and policies of a `SaveScheduleRequest` body with Podium's fields.

    Raises `SpecError` naming the first field that is wrong; nothing else is read from it.
    """
    cron = _opt_str(body, "cronExpression")
    interval_s = _opt_number(body, "intervalSeconds")
    catchup = _catchup(body)
    window_s = _opt_number(body, "catchupWindowSeconds")
    jitter_s = _opt_number(body, "jitterSeconds")
    pause_after = _opt_int(body, "pauseAfterFailures")
    end_ms = _opt_int(body, "scheduleEndTime")
    return ScheduleSpec(
        cron=cron,
        interval_ms=None if interval_s is None else round(interval_s * 1000),
        zone=_opt_str(body, "zoneId") or "UTC",
        start_ms=_opt_int(body, "scheduleStartTime"),
        # Conductor's clients send 0 for "no end time" (a Java long's default).
        end_ms=None if end_ms == 0 else end_ms,
        jitter_ms=0 if jitter_s is None else round(jitter_s * 1000),
        overlap=_enum(body, "overlapPolicy", Overlap, Overlap.SKIP),
        catchup=catchup,
        catchup_window_ms=(
            DEFAULT_CATCHUP_WINDOW_MS if window_s is None else round(window_s * 1000)
        ),
        pause_after_failures=pause_after,
    )


def _check(spec: ScheduleSpec) -> None:
    # The REST field names are used, since that is where a wrong value came from.
    if spec.cron is not None and spec.interval_ms is not None:
        raise SpecError("cronExpression", "give either cronExpression or intervalSeconds, not both")
    if spec.cron is None and spec.interval_ms is None:
        raise SpecError("cronExpression", "give cronExpression or intervalSeconds")
    if spec.cron is not None:
        validate_cron(spec.cron)
    if spec.interval_ms is not None and spec.interval_ms <= 0:
        raise SpecError("intervalSeconds", "must be more than 0")
    try:
        ZoneInfo(spec.zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SpecError("zoneId", f"unknown time zone {spec.zone!r}") from exc
    if spec.start_ms is not None and spec.start_ms < 0:
        raise SpecError("scheduleStartTime", "must not be negative")
    if spec.end_ms is not None and spec.end_ms < 0:
        raise SpecError("scheduleEndTime", "must not be negative")
    if spec.start_ms is not None and spec.end_ms is not None and spec.end_ms < spec.start_ms:
        raise SpecError("scheduleEndTime", "is before scheduleStartTime")
    if spec.jitter_ms < 0:
        raise SpecError("jitterSeconds", "must not be negative")
    if spec.catchup_window_ms < 0:
        raise SpecError("catchupWindowSeconds", "must not be negative")
    if spec.pause_after_failures is not None and spec.pause_after_failures < 1:
        raise SpecError("pauseAfterFailures", "must be at least 1")


def _catchup(body: Mapping[str, Any]) -> Catchup:
    if body.get("catchupPolicy") is not None:
        return _enum(body, "catchupPolicy", Catchup, Catchup.ALL)
    run_catchup = body.get("runCatchupScheduleInstances")
    if run_catchup is None:
        return Catchup.ALL
    if not isinstance(run_catchup, bool):
        raise SpecError("runCatchupScheduleInstances", "must be true or false")
    return Catchup.ALL if run_catchup else Catchup.NONE


def _enum(body: Mapping[str, Any], field: str, kind: type[E], default: E) -> E:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, str):
        try:
            return kind(value.upper())
        except ValueError:
            pass
    names = ", ".join(member.value for member in kind)
    raise SpecError(field, f"{value!r} is not one of {names}")


def _opt_str(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SpecError(field, "must be a string")
    # Conductor's clients send "" for "not set".
    return value.strip() or None


def _opt_number(body: Mapping[str, Any], field: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(field, "must be a number")
    return float(value)


def _opt_int(body: Mapping[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(field, "must be a whole number")
    return value
