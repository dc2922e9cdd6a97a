"""What a store keeps of schedules: the schedules themselves and a row per tick acted on.

A tick row's key (schedule, nominal time) is the exactly-once guarantee: the unit of work that
starts a tick's run inserts its row in the same transaction, and an instance that takes the
same tick later finds the row and starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ScheduleRow", "ScheduleStoreTx", "TickQuery", "TickRow", "TickState"]


class TickState:
    """What became of a tick; a run that ended leaves its final status in its tick's row."""

    RUNNING = "RUNNING"
    """Its run was started and has not been seen to end."""
    BUFFERED = "BUFFERED"
    """Held back by the overlap policy until the running one ends."""
    SKIPPED = "SKIPPED"
    """Not started: the overlap policy or a catch-up window said so (``reason``)."""
    START_FAILED = "START_FAILED"
    """Starting its run failed (the workflow is not registered, ...; ``reason``)."""
    OPEN = (RUNNING, BUFFERED)


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    name: str
    workflow_name: str
    body: dict[str, Any]
    """The schedule as saved (Conductor's ``SaveScheduleRequest`` and Podium's fields)."""
    paused: bool
    paused_reason: str | None
    next_tick_ms: int | None
    """When the scheduler must look next: the next tick's nominal time and its jitter (in
    the past when a tick is waiting to be acted on); None when the schedule has no more."""
    last_tick_ms: int | None
    """Ticks at or before this time have been acted on (started, skipped, buffered or
    missed): the scheduler's previous look, or when the schedule was saved or resumed."""
    consecutive_failures: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class TickRow:
    schedule_name: str
    nominal_ms: int
    workflow_name: str
    run_id: str | None
    state: str
    started_ms: int | None
    reason: str | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class TickQuery:
    """Filters of a tick search; every one optional, combined with AND."""

    schedule_names: tuple[str, ...] = ()
    workflow_names: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    text: str | None = None
    """Part of the schedule's or workflow's name, the run id or the reason."""
    start: int = 0
    size: int = 100
    order: tuple[tuple[str, bool], ...] = ()
    """``TICK_ORDER`` columns, each with whether it runs descending; newest first if empty."""


TICK_ORDER = {
    "scheduledTime": "nominal_ms",
    "executionTime": "started_ms",
    "scheduleName": "schedule_name",
    "workflowName": "workflow_name",
    "state": "state",
}
"""The API's names of the columns a tick search may be sorted by."""


class ScheduleStoreTx(Protocol):
    """Schedule operations inside one transaction (part of ``StoreTx``)."""

    def put_schedule(
        self,
        name: str,
        workflow_name: str,
        body: dict[str, Any],
        *,
        paused: bool,
        paused_reason: str | None,
        next_tick_ms: int | None,
        last_tick_ms: int | None,
        now: int,
    ) -> bool:
        """Create or replace a schedule (its failure count is kept on replace); whether it
        is new."""
        ...

    def get_schedule(self, name: str, *, for_update: bool = False) -> ScheduleRow | None: ...
    def list_schedules(self, workflow_name: str | None = None) -> list[ScheduleRow]: ...
    def delete_schedule(self, name: str) -> bool:
        """Delete a schedule with its tick rows."""
        ...

    def set_schedule_paused(
        self, name: str, paused: bool, reason: str | None, now: int, *, next_tick_ms: int | None
    ) -> bool:
        """Pause or resume; a resumed schedule acts on ticks after ``now`` only, the first
        due at ``next_tick_ms``, and counts failures from 0."""
        ...

    def advance_schedule(
        self,
        name: str,
        *,
        next_tick_ms: int | None,
        last_tick_ms: int | None,
        consecutive_failures: int,
        now: int,
    ) -> None: ...
    def schedules_to_check(
        self, now: int, limit: int, *, ticking: bool, after: str | None = None
    ) -> list[str]:
        """Names of the schedules the scheduler must look at now (not locked), in order,
        after ``after``: with ``ticking``, those due by ``now`` and not paused; with or
        without it, those with open ticks (a run not seen to end, a buffered tick)."""
        ...

    def lock_schedule(self, name: str) -> ScheduleRow | None:
        """The schedule, held until commit; None if it is gone or, on a backend with several
        writers, another instance holds it now (that instance is acting on it)."""
        ...

    def next_schedule_due(self) -> int | None:
        """The earliest next tick of a schedule not paused."""
        ...

    def insert_tick(self, tick: TickRow) -> bool:
        """Record a tick unless it is recorded already; whether it was recorded."""
        ...

    def update_tick(
        self,
        schedule_name: str,
        nominal_ms: int,
        *,
        state: str,
        run_id: str | None,
        started_ms: int | None,
        reason: str | None,
        now: int,
    ) -> None: ...
    def get_tick(self, schedule_name: str, nominal_ms: int) -> TickRow | None: ...
    def open_ticks(self, schedule_name: str) -> list[TickRow]:
        """The schedule's RUNNING and BUFFERED ticks, the oldest first."""
        ...

    def recent_ticks(self, schedule_name: str, limit: int) -> list[TickRow]:
        """The schedule's latest ticks, newest first."""
        ...

    def search_ticks(self, query: TickQuery) -> tuple[int, list[TickRow]]: ...
    def remove_old_ticks(self, before_ms: int, limit: int) -> int:
        """Delete up to ``limit`` rows of ticks before ``before_ms`` that are no longer open
        (retention's); returns how many went."""
        ...

    def schedules_paused(self) -> bool:
        """Whether every schedule is paused at once (the admin's pause)."""
        ...

    def set_schedules_paused(self, paused: bool) -> None: ...
