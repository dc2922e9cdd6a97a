"""Conductor's cron expressions, read with croniter.

Conductor writes six fields, seconds first (`sec min hour dom month dow`), with `?` for "no
specific value" in day-of-month or day-of-week, and names such as `MON-FRI` or `JAN`. Five fields
are read as Unix cron's, at second 0. Day-of-week numbers are Unix's (0 or 7 is Sunday).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter

from podium.schedules.errors import SpecError

__all__ = ["cron_iter", "is_fixed_time", "normalise_cron", "validate_cron"]

FIELD = "cronExpression"
# A sample start for checking that an expression fires at all (`0 0 0 30 2 ?` never does).
_PROBE = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))


def normalise_cron(expr: str) -> str:
    """The six-field form of `expr`: five Unix fields get second 0 in front."""
    fields = expr.split()
    if len(fields) == 5:
        return " ".join(["0", *fields])
    if len(fields) == 6:
        return " ".join(fields)
    raise SpecError(
        FIELD, f"{expr!r} has {len(fields)} fields; give 6 (sec min hour dom month dow) or 5"
    )


def validate_cron(expr: str) -> None:
    """Raise `SpecError("cronExpression", ...)` unless `expr` is a cron that ever fires."""
    try:
        cron_iter(expr, "UTC", _PROBE).get_next(float)
    except CroniterError as exc:
        raise SpecError(FIELD, f"{expr!r} is not a valid cron expression: {exc}") from exc


def cron_iter(expr: str, zone: str, start: datetime) -> croniter:
    """A croniter over `expr`'s wall-clock times in `zone`, from `start` (exclusive)."""
    try:
        return croniter(
            normalise_cron(expr), start.astimezone(ZoneInfo(zone)), second_at_beginning=True
        )
    except CroniterError as exc:
        raise SpecError(FIELD, f"{expr!r} is not a valid cron expression: {exc}") from exc


def is_fixed_time(expr: str) -> bool:
    """Whether `expr` names the hour and minute it fires at, as Vixie cron tells them apart.

    A fixed-time job (`0 30 1 * * *`) fires once on the day the clocks go back; a job whose
    minute or hour is a wildcard (`0 30 * * * *`, `0 */5 1 * * *`) fires in the repeated hour
    again, so that it keeps its pace in real time.
    """
    fields = normalise_cron(expr).split()
    return not (fields[1].startswith("*") or fields[2].startswith("*"))
