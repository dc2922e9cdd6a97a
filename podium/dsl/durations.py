"""Durations and points in time as WAIT tasks write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from podium.dsl.bounds import MAX_DURATION_S

__all__ = ["parse_duration_s", "parse_until_ms"]

_UNITS = {
    "ms": 0.001,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*")


def parse_duration_s(text: str) -> float:
    """``"30s"``, ``"5 minutes"``, ``"1d 2h"`` -> seconds. Raises ValueError if malformed."""
    seconds = _duration_s(text)
    if seconds > MAX_DURATION_S:
        # The wait's deadline, in milliseconds, must fit in the store's 64-bit columns.
        raise ValueError(f"duration {text!r} is longer than the limit of {MAX_DURATION_S} s")
    return seconds


def _duration_s(text: str) -> float:
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total = 0.0
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"cannot read duration {text!r}: use e.g. '30s', '5 minutes', '1d 2h'")
        total += float(match.group(1)) * _UNITS[match.group(2).lower()]
        pos = match.end()
    return total


# Conductor reads ``until`` with Java's ``yyyy-MM-dd HH:mm z``, whose ``z`` takes a zone
# abbreviation at its fixed offset (standard or daylight, as written), ``GMT+04:00`` or a zone id.
_ABBREVIATIONS = {
    "GMT": 0, "UTC": 0, "UT": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
}  # fmt: skip
_OFFSET = re.compile(r"(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?")
_WITH_ZONE = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{1,2})(:\d{2}(?::\d{2}(?:\.\d+)?)?)\s+(\S+)")


def _zone(name: str) -> tzinfo | None:
    hours = _ABBREVIATIONS.get(name.upper())
    if hours is not None:
        return timezone(timedelta(hours=hours))
    offset = _OFFSET.fullmatch(name.upper())
    if offset is not None:
        sign = -1 if offset.group(1) == "-" else 1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return timezone(sign * delta) if delta < timedelta(hours=24) else None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_until_ms(text: str) -> int:
    """``"2026-11-23 15:00 UTC"``, ``"2026-11-23 15:00 PST"`` (or ``GMT+04:00``, or a zone id
    such as ``Europe/Paris``) or ISO-8601 -> epoch milliseconds (naive times are UTC)."""
    cleaned = text.strip()
    zone: tzinfo | None = None
    with_zone = _WITH_ZONE.fullmatch(cleaned)
    if with_zone is not None:
        day, hour, rest, name = with_zone.groups()
        zone = _zone(name)
        if zone is not None:
            cleaned = f"{day} {int(hour):02d}{rest}"
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise ValueError(
            f"cannot read time {text!r}: use ISO-8601 or 'yyyy-MM-dd HH:mm z' "
            "(z: UTC, PST, GMT+04:00, Europe/Paris)"
        ) from exc
    if zone is not None:
        moment = moment.replace(tzinfo=zone)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
