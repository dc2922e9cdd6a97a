"""Durations and points in time as WAIT tasks write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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


def parse_until_ms(text: str) -> int:
    """``"2026-11-23 15:00 UTC"`` or ISO-8601 -> epoch milliseconds (naive times are UTC)."""
    cleaned = text.strip()
    if cleaned.upper().endswith(" UTC"):
        cleaned = cleaned[:-4] + "+00:00"
    elif cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise ValueError(
            f"cannot read time {text!r}: use ISO-8601 or 'yyyy-MM-dd HH:mm UTC'"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
