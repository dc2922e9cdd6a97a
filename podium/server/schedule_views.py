"""Schedules and their ticks as the API shows them: Conductor's ``WorkflowSchedule`` and
``WorkflowScheduleExecutionModel`` (camelCase), with Podium's fields beside Conductor's."""

from __future__ import annotations

from typing import Any

from podium.schedules import ScheduleSpec, next_ticks
from podium.store.schedules_base import ScheduleRow, TickRow, TickState

__all__ = ["LAST_RUNS", "conductor_state", "execution_json", "next_run_time", "schedule_json"]

LAST_RUNS = 5
"""How many of its latest ticks a schedule is shown with."""

_NOT_STARTED = frozenset({TickState.SKIPPED, TickState.START_FAILED})


def conductor_state(state: str) -> str:
    """A tick's state as Conductor names an execution's: POLLED (waiting to start: buffered),
    FAILED (no run: skipped, or its start failed) or EXECUTED (a run was started)."""
    if state == TickState.BUFFERED:
        return "POLLED"
    return "FAILED" if state in _NOT_STARTED else "EXECUTED"


def _seconds(ms: int | None) -> float | None:
    if ms is None:
        return None
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def next_run_time(row: ScheduleRow, spec: ScheduleSpec, now: int) -> int | None:
    """The nominal time of the next tick the schedule will act on (None while paused)."""
    if row.paused or row.next_tick_ms is None:
        return None
    upcoming = next_ticks(spec, row.last_tick_ms if row.last_tick_ms is not None else now, 1)
    return upcoming[0] if upcoming else None


def schedule_json(
    row: ScheduleRow, spec: ScheduleSpec, recent: list[TickRow], now: int
) -> dict[str, Any]:
    body = row.body
    return {
        "name": row.name,
        "cronExpression": spec.cron,
        "runCatchupScheduleInstances": spec.catchup != "NONE",
        "paused": row.paused,
        "pausedReason": row.paused_reason,
        "startWorkflowRequest": body.get("startWorkflowRequest"),
        "scheduleStartTime": spec.start_ms,
        "scheduleEndTime": spec.end_ms,
        "createTime": row.created_at,
        "updatedTime": row.updated_at,
        "createdBy": body.get("createdBy"),
        "updatedBy": body.get("updatedBy"),
        "zoneId": spec.zone,
        "description": body.get("description"),
        "tags": body.get("tags") or [],
        # Podium's own.
        "intervalSeconds": _seconds(spec.interval_ms),
        "overlapPolicy": str(spec.overlap),
        "catchupPolicy": str(spec.catchup),
        "catchupWindowSeconds": _seconds(spec.catchup_window_ms),
        "jitterSeconds": _seconds(spec.jitter_ms),
        "pauseAfterFailures": spec.pause_after_failures,
        "consecutiveFailures": row.consecutive_failures,
        "nextRunTime": next_run_time(row, spec, now),
        "lastRuns": [
            {
                "scheduledTime": tick.nominal_ms,
                "workflowId": tick.run_id,
                "state": tick.state,
                "startTime": tick.started_ms,
                "reason": tick.reason,
            }
            for tick in recent
        ],
    }


def execution_json(tick: TickRow, schedule: ScheduleRow | None) -> dict[str, Any]:
    """A tick as an execution; ``schedule`` (None once deleted) gives its request and zone."""
    return {
        "executionId": f"{tick.schedule_name}:{tick.nominal_ms}",
        "scheduleName": tick.schedule_name,
        "scheduledTime": tick.nominal_ms,
        "executionTime": tick.started_ms,
        "workflowName": tick.workflow_name,
        "workflowId": tick.run_id,
        "reason": tick.reason,
        "stackTrace": None,
        "startWorkflowRequest": schedule.body.get("startWorkflowRequest") if schedule else None,
        "state": conductor_state(tick.state),
        "zoneId": (schedule.body.get("zoneId") or "UTC") if schedule else None,
        # Podium's own: what became of the tick and of its run.
        "tickState": tick.state,
    }
