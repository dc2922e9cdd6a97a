"""The schedules part of ``PodiumClient``: Conductor's ``/api/scheduler`` routes and Podium's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["SchedulesApi"]

_ROOT = "/api/scheduler"


def _schedule(name: str) -> str:
    return f"{_ROOT}/schedules/{quote(name, safe='')}"


class SchedulesApi:
    """Mixed into ``PodiumClient``; every method is one request."""

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def save_schedule(self, body: Mapping[str, Any]) -> None:
        """Create or replace a schedule (a ``SaveScheduleRequest`` with Podium's fields)."""
        self._json("POST", f"{_ROOT}/schedules", json_body=dict(body))

    def list_schedules(self, workflow_name: str | None = None) -> list[dict[str, Any]]:
        """Every schedule, or those that start ``workflow_name``."""
        found = self._json("GET", f"{_ROOT}/schedules", params={"workflowName": workflow_name})
        return list(found or [])

    def get_schedule(self, name: str) -> dict[str, Any]:
        """One schedule with its next run time and last runs."""
        found: dict[str, Any] = self._json("GET", _schedule(name))
        return found

    def pause_schedule(self, name: str, reason: str | None = None) -> None:
        """Stop a schedule's ticks until it is resumed; ``reason`` is shown beside it."""
        self._json("PUT", f"{_schedule(name)}/pause", params={"reason": reason})

    def resume_schedule(self, name: str) -> None:
        """Start a paused schedule's ticks again, from now on (the paused ones are not run)."""
        self._json("PUT", f"{_schedule(name)}/resume")

    def delete_schedule(self, name: str) -> None:
        """Remove a schedule; the runs it started are left alone."""
        self._json("DELETE", _schedule(name))

    def schedule_next_times(self, name: str, limit: int = 5) -> list[int]:
        """A schedule's next nominal tick times, epoch milliseconds."""
        return [
            int(t)
            for t in self._json("GET", f"{_schedule(name)}/next", params={"limit": limit}) or []
        ]

    def cron_next_times(
        self,
        cron_expression: str,
        *,
        zone: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 5,
    ) -> list[int]:
        """The next times a cron expression fires (Conductor's ``nextFewSchedules``)."""
        params = {
            "cronExpression": cron_expression,
            "zoneId": zone,
            "scheduleStartTime": start_ms,
            "scheduleEndTime": end_ms,
            "limit": limit,
        }
        return [int(t) for t in self._json("GET", f"{_ROOT}/nextFewSchedules", params=params) or []]

    def backfill_schedule(
        self, name: str, start_ms: int, end_ms: int, overlap: str | None = None
    ) -> dict[str, list[int]]:
        """Run a schedule's ticks in ``[start_ms, end_ms]`` that never ran: ``{"scheduled": the
        range's tick times, "started": those this call started or buffered}``."""
        body: dict[str, Any] = {"startTime": start_ms, "endTime": end_ms}
        if overlap is not None:
            body["overlapPolicy"] = overlap
        answer = self._json("POST", f"{_schedule(name)}/backfill", json_body=body) or {}
        return {key: [int(t) for t in answer.get(key) or []] for key in ("scheduled", "started")}
