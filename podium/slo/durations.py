"""Durations as SLOs write them (``28d``, ``6h``, ``5m``) and as PromQL reads them."""

from __future__ import annotations

import re

from podium.errors import ValidationError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DAY = _UNITS["d"]
_PATTERN = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")


def parse_duration(text: object, field: str) -> int:
    """Milliseconds of ``text`` (a whole number and one unit); a ValidationError names
    ``field`` otherwise."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    # Up to ten years: far beyond any window, and far from the stores' integer limits.
    if match is None or not 0 < int(match.group(1)) * _UNITS[match.group(2)] <= 10 * 365 * _DAY:
        raise ValidationError(
            f"{field} must be a duration such as 30m, 6h or 28d (up to 10 years), not {text!r}",
            field=field,
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_duration(ms: int) -> str:
    """``ms`` in PromQL's duration syntax, largest units first: ``4m40s``, ``1d2h``."""
    if ms <= 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s", "ms"):
        size = _UNITS[unit]
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)
