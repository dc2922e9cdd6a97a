"""Schedules: cron and interval timing with Temporal's policies, as pure functions."""

from podium.schedules.errors import SpecError
from podium.schedules.spec import Catchup, Overlap, ScheduleSpec, parse_spec
from podium.schedules.timing import (
    OverlapAction,
    due_ticks,
    jitter_ms,
    next_ticks,
    overlap_action,
    validate_cron,
)

__all__ = [
    "Catchup",
    "Overlap",
    "OverlapAction",
    "ScheduleSpec",
    "SpecError",
    "due_ticks",
    "jitter_ms",
    "next_ticks",
    "overlap_action",
    "parse_spec",
    "validate_cron",
]
