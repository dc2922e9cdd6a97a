"""Retry delays, lease lengths and timer keys, computed without reading a clock."""

from __future__ import annotations

from typing import Any

from podium.dsl.bounds import MAX_DURATION_S
from podium.dsl.durations import parse_duration_s, parse_until_ms
from podium.dsl.http_request import request_of
from podium.dsl.models import RetryLogic, TaskDef

__all__ = [
    "WORKFLOW_TIMEOUT_KEY",
    "http_lease_s",
    "parse_duration_s",
    "parse_until_ms",
    "retry_delay_s",
    "timer_key_task_timeout",
    "timer_key_wait",
]

WORKFLOW_TIMEOUT_KEY = "workflow-timeout"
"""The timer of a run's own timeoutSeconds."""


def retry_delay_s(task_def: TaskDef, attempt: int) -> int:
    """Delay before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
    base = task_def.retryDelaySeconds
    if task_def.retryLogic == RetryLogic.EXPONENTIAL_BACKOFF:
        delay = base * task_def.backoffScaleFactor * (2**attempt)
    elif task_def.retryLogic == RetryLogic.LINEAR_BACKOFF:
        delay = base * task_def.backoffScaleFactor * (attempt + 1)
    else:
        delay = base
    # Doubling a minute a thousand times outgrows any deadline a store can hold.
    return min(int(delay), MAX_DURATION_S)


def timer_key_wait(task_id: str) -> str:
    return f"wait:{task_id}"


def timer_key_task_timeout(task_id: str) -> str:
    return f"task-timeout:{task_id}"


def http_lease_s(task_input: dict[str, Any]) -> int:
    """How long the HTTP executor may hold a call before another executor may take it over."""
    request, _ = request_of(task_input)
    if not isinstance(request, dict):
        return 60
    try:
        connect_ms = int(request.get("connectionTimeOut") or 10_000)
        read_ms = int(request.get("readTimeOut") or 30_000)
    except (TypeError, ValueError):
        return 60
    return max(1, min((connect_ms + read_ms) // 1000 + 5, MAX_DURATION_S))
