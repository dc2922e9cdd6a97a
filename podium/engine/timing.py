"""Retry delays, computed without reading a clock."""

from __future__ import annotations

from podium.dsl.durations import parse_duration_s, parse_until_ms
from podium.dsl.models import RetryLogic, TaskDef

__all__ = ["parse_duration_s", "parse_until_ms", "retry_delay_s"]


def retry_delay_s(task_def: TaskDef, attempt: int) -> int:
    """Delay before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
    base = task_def.retryDelaySeconds
    if task_def.retryLogic == RetryLogic.EXPONENTIAL_BACKOFF:
        return int(base * task_def.backoffScaleFactor * (2**attempt))
    if task_def.retryLogic == RetryLogic.LINEAR_BACKOFF:
        return base * task_def.backoffScaleFactor * (attempt + 1)
    return base
