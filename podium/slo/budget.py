"""Error budgets and burn rates, from counts of good and bad events (pure).

An SLO's indicator is the fraction of good events in its window: runs (or task attempts) that
succeeded, or that took at most the latency threshold. With a target ``t`` the budget is the
``1 - t`` of events allowed to be bad; ``budget_remaining`` is the part of it not spent
(negative once overspent) and a window's burn rate is how fast it is spent there: 1 spends
exactly the budget over the SLO's window, 14.4 spends 2% of a 30-day budget in an hour.

The burn windows are the SRE workbook's (given for a 30-day SLO) scaled to the SLO's window,
so that every window keeps the share of the budget it speaks for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ALERTS",
    "BURN_WINDOWS",
    "Alert",
    "Counts",
    "budget_remaining",
    "burn_rate",
    "burn_windows",
    "nearest_rank",
]

_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
REFERENCE_WINDOW_MS = 30 * _DAY

BURN_WINDOWS: tuple[tuple[str, int], ...] = (
    ("5m", 5 * _MINUTE),
    ("30m", 30 * _MINUTE),
    ("1h", _HOUR),
    ("6h", 6 * _HOUR),
    ("1d", _DAY),
    ("3d", 3 * _DAY),
)
"""The standard windows' labels and lengths for a 30-day SLO."""


@dataclass(frozen=True, slots=True)
class Alert:
    """Fire when both windows burn faster than ``burn_rate`` (the short one says it still is)."""

    burn_rate: float
    long: str
    short: str
    severity: str


ALERTS = (
    Alert(14.4, "1h", "5m", "page"),  # 2% of the budget in an hour
    Alert(6.0, "6h", "30m", "page"),  # 5% in six hours
    Alert(1.0, "3d", "6h", "ticket"),  # 10% in three days
)
"""The SRE workbook's multi-window, multi-burn-rate alerts."""


@dataclass(frozen=True, slots=True)
class Counts:
    """Events that ended in a window, and how many of them were good."""

    total: int = 0
    good: int = 0

    @property
    def ratio(self) -> float | None:
        """The fraction of good events; None with no events (nothing to judge)."""
        return self.good / self.total if self.total else None


def burn_windows(window_ms: int) -> dict[str, int]:
    """Each standard window's length for an SLO over ``window_ms`` (whole seconds, at least
    one)."""
    return {
        label: max(1_000, length * window_ms // REFERENCE_WINDOW_MS // 1_000 * 1_000)
        for label, length in BURN_WINDOWS
    }


def budget_remaining(counts: Counts, target: float) -> float:
    """The share of the error budget not spent: 1 with no bad events, 0 when the indicator
    equals the target, negative once it fell below."""
    ratio = counts.ratio
    if ratio is None:
        return 1.0
    return 1.0 - (1.0 - ratio) / (1.0 - target)


def burn_rate(counts: Counts, target: float) -> float:
    """How many times faster than allowed the budget is spent (0 with no events)."""
    ratio = counts.ratio
    if ratio is None:
        return 0.0
    return (1.0 - ratio) / (1.0 - target)


def nearest_rank(percentile: float, count: int) -> int:
    """The 0-based position, in ascending order, of the ``percentile`` of ``count`` values
    (the nearest-rank method: the smallest value at least that share of values do not exceed)."""
    return max(0, math.ceil(percentile / 100 * count) - 1)
