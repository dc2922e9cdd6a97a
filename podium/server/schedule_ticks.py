"""What the scheduler does with one schedule, inside one unit of work that holds its row.

It records how the runs it started last time ended (counting failures in a row, and pausing
the schedule at its ``pauseAfterFailures``), starts a buffered tick once nothing runs, and
acts on every tick that is due: start its run, skip it, buffer it, or end the running run
first, as the overlap policy says. A tick's row is inserted in the same transaction as its
run, and a tick that has a row is never acted on again, so each tick starts at most one run.
The run's idempotency key (``tick_key``) holds the same line should a run be started apart
from its row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from podium.engine.events import TerminateRun
from podium.engine.state import RunStatus
from podium.errors import ConflictError, PodiumError, WorkflowNotFoundError
from podium.notifications.outbox import notify_ticks_missed
from podium.schedules import (
    Overlap,
    OverlapAction,
    ScheduleSpec,
    due_ticks,
    jitter_ms,
    next_ticks,
    overlap_action,
)
from podium.schedules.timing import MAX_DUE_TICKS, should_pause
from podium.server.orchestrator import Orchestrator
from podium.server.units import Outbox
from podium.store.base import RunQuery, StoreTx
from podium.store.schedules_base import ScheduleRow, TickRow, TickState

__all__ = ["FAILED_RUN_STATUSES", "ScheduleUnit", "TickNotes", "next_look", "tick_key"]

FAILED_RUN_STATUSES = frozenset(
    {
        RunStatus.FAILED,
        RunStatus.TIMED_OUT,
        RunStatus.TERMINATED,
        RunStatus.COMPENSATED,
        RunStatus.COMPENSATION_FAILED,
    }
)
"""How a scheduled run ends that counts towards its schedule's ``pauseAfterFailures``."""

# Counting the ticks a long outage dropped is for a metric: past this many it stops counting.
_MISSED_COUNT_LIMIT = 10 * MAX_DUE_TICKS


def tick_key(schedule: str, nominal_ms: int) -> str:
    """The idempotency key of a tick's run: the same for every instance and every retry."""
    return f"schedule:{schedule}:{nominal_ms}"


def next_look(spec: ScheduleSpec, schedule: str, after_ms: int) -> int | None:
    """When the first tick after ``after_ms`` is to start (its nominal time and jitter);
    None if the schedule has no more ticks."""
    upcoming = next_ticks(spec, after_ms, 1)
    return upcoming[0] + jitter_ms(spec, schedule, upcoming[0]) if upcoming else None


@dataclass(slots=True)
class TickNotes:
    """What a unit did, turned into metrics once it committed (made afresh per attempt)."""

    started: list[tuple[str, int | None]] = field(default_factory=list)
    """(schedule, ms from nominal time to start; None for a backfill's run)."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(schedule, why: overlap or start_failed)."""
    missed: list[tuple[str, int]] = field(default_factory=list)


class ScheduleUnit:
    """One schedule, its row held, for the unit of work acting on it at ``now``."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        tx: StoreTx,
        outbox: Outbox,
        notes: TickNotes,
        row: ScheduleRow,
        spec: ScheduleSpec,
        now: int,
    ) -> None:
        self.orchestrator = orchestrator
        self.tx = tx
        self.outbox = outbox
        self.notes = notes
        self.row = row
        self.spec = spec
        self.now = now
        self.paused = row.paused
        self.failures = row.consecutive_failures
        ticks = tx.open_ticks(row.name)
        self.running = [tick for tick in ticks if tick.state == TickState.RUNNING]
        self.buffered = [tick for tick in ticks if tick.state == TickState.BUFFERED]

    @property
    def name(self) -> str:
        return self.row.name

    # ---- the whole pass --------------------------------------------------------------------

    def act(self, *, ticking: bool) -> None:
        """Settle ended runs; unless paused (or not ``ticking``), start what is due; save."""
        self.settle()
        self.pause_if_failing()
        next_tick, last_tick = self.row.next_tick_ms, self.row.last_tick_ms
        if ticking and not self.paused:
            self.start_buffered()
            if next_tick is not None and next_tick <= self.now:
                next_tick, last_tick = self.act_on_due()
            self.pause_if_failing()
        self.tx.advance_schedule(
            self.name,
            next_tick_ms=next_tick,
            last_tick_ms=last_tick,
            consecutive_failures=self.failures,
            now=self.now,
        )

    def settle(self) -> None:
        """Record the end of every run of this schedule that ended since it was last seen."""
        if not self.running:
            return
        ids = tuple(tick.run_id for tick in self.running if tick.run_id is not None)
        _, states = self.tx.search_runs(RunQuery(run_ids=ids, size=len(ids)), tasks=False)
        status = {state.run_id: state.status for state in states}
        still: list[TickRow] = []
        for tick in self.running:
            ended = status.get(tick.run_id) if tick.run_id is not None else None
            if ended is not None and not ended.is_terminal:
                still.append(tick)
                continue
            self.tx.update_tick(
                self.name,
                tick.nominal_ms,
                state=str(ended) if ended is not None else "REMOVED",
                run_id=tick.run_id,
                started_ms=tick.started_ms,
                reason=None if ended is not None else "the run is no longer stored",
                now=self.now,
            )
            self._count_end(ended)
        self.running = still

    def pause_if_failing(self) -> None:
        if self.paused or not should_pause(self.spec, self.failures):
            return
        reason = (
            f"paused after {self.failures} failed runs in a row "
            f"(pauseAfterFailures is {self.spec.pause_after_failures})"
        )
        self.tx.set_schedule_paused(self.name, True, reason, self.now, next_tick_ms=None)
        self.paused = True

    def start_buffered(self) -> None:
        """Start the oldest buffered tick once none of this schedule's runs is running."""
        while self.buffered and not self.running:
            tick = self.buffered.pop(0)
            self.start(tick.nominal_ms, late=True, buffered=True)

    def act_on_due(self) -> tuple[int | None, int | None]:
        """Act on the ticks due by now, with jitter; the next look and the last tick done."""
        spec, now, last = self.spec, self.now, self.row.last_tick_ms
        # Ticks older than the largest jitter are past their start whatever their own jitter
        # is; the catch-up policy picks among them. Newer ones each wait for their jitter.
        settled_until = now - spec.jitter_ms
        settled = due_ticks(spec, last, settled_until)
        if last is not None:
            every = next_ticks(spec, last, _MISSED_COUNT_LIMIT, until_ms=settled_until)
            if len(every) > len(settled):
                missed = len(every) - len(settled)
                self.notes.missed.append((self.name, missed))
                workflow = self.row.workflow_name
                if notify_ticks_missed(self.tx, self.name, workflow, missed, last, now):
                    self.outbox.notifications = True
        recent_after = max(last if last is not None else now - 1, settled_until)
        recent = (
            next_ticks(spec, recent_after, MAX_DUE_TICKS, until_ms=now) if spec.jitter_ms else []
        )
        for nominal in [*settled, *recent]:
            start_at = nominal + jitter_ms(spec, self.name, nominal)
            if start_at > now:
                return start_at, nominal - 1  # this one (and those after it) wait
            self.act_on(nominal, spec.overlap)
        return next_look(spec, self.name, now), now

    # ---- one tick --------------------------------------------------------------------------

    def act_on(self, nominal: int, overlap: Overlap, *, late: bool = True) -> bool:
        """Act on one tick as ``overlap`` says; whether a run started or was buffered for it.
        A tick acted on before (its row exists) is left as it is."""
        if self.tx.get_tick(self.name, nominal) is not None:
            return False
        action = overlap_action(overlap, len(self.running), len(self.buffered))
        if action == OverlapAction.SKIP:
            reason = f"overlapPolicy {overlap}: {len(self.running)} run(s) still running"
            if self.buffered:
                reason += f", {len(self.buffered)} tick(s) buffered"
            self._record(nominal, TickState.SKIPPED, None, None, reason)
            self.notes.skipped.append((self.name, "overlap"))
            return False
        if action == OverlapAction.BUFFER:
            self._record(nominal, TickState.BUFFERED, None, None, None)
            self.buffered.append(self._row(nominal, TickState.BUFFERED, None, None, None))
            return True
        if action in (OverlapAction.CANCEL_THEN_START, OverlapAction.TERMINATE_THEN_START):
            self.end_running(nominal, cancel=action == OverlapAction.CANCEL_THEN_START)
        return self.start(nominal, late=late)

    def end_running(self, nominal: int, *, cancel: bool) -> None:
        """End the running runs for the tick at ``nominal``: a cancel undoes their completed
        steps (their compensations) as an operator's terminate with ``compensate`` does."""
        policy = "CANCEL_OTHER" if cancel else "TERMINATE_OTHER"
        reason = f"overlapPolicy {policy}: the tick at {nominal} started a new run"
        for tick in self.running:
            assert tick.run_id is not None
            try:
                self.orchestrator.event_tx(
                    self.tx,
                    self.outbox,
                    tick.run_id,
                    TerminateRun(self.now, reason, compensate=cancel),
                )
            except (ConflictError, WorkflowNotFoundError):
                pass  # it ended (or went) meanwhile: nothing left to end
            # Ended on purpose: not a failure of the schedule's workflow.
            self.tx.update_tick(
                self.name,
                tick.nominal_ms,
                state="CANCELLED" if cancel else "TERMINATED",
                run_id=tick.run_id,
                started_ms=tick.started_ms,
                reason=reason,
                now=self.now,
            )
        self.running = []

    def start(self, nominal: int, *, late: bool, buffered: bool = False) -> bool:
        """Start the tick's run and record it; whether it started (a failure to start is
        recorded on the tick and counts as a failed run)."""
        request: dict[str, Any] = self.row.body.get("startWorkflowRequest") or {}
        workflow = self.row.workflow_name
        version = request.get("version")
        key = tick_key(self.name, nominal)
        run_id = self.tx.get_idempotent_run(workflow, key)
        reason = None
        ended: RunStatus | None = None
        if run_id is None:  # else started already, by a unit that recorded no tick row
            try:
                # Resolved first, so that a start that cannot happen writes nothing.
                self.orchestrator.definitions.resolve(self.tx, workflow, version)
            except PodiumError as exc:
                reason = exc.message
            else:
                run_id = str(uuid.uuid4())
                self.tx.put_idempotent_run(workflow, key, run_id)
                correlation_id = request.get("correlationId") or None
                begun = self.orchestrator.start_run_tx(
                    self.tx,
                    self.outbox,
                    run_id,
                    workflow,
                    version,
                    dict(request.get("input") or {}),
                    correlation_id or run_id,
                    None,
                    None,
                    self.now,
                    trace_only=not correlation_id,
                    task_to_domain=request.get("taskToDomain") or None,
                    priority=int(request.get("priority") or 0),
                    schedule=(self.name, nominal),
                )
                # A run of system steps only may end as it starts: it runs no longer.
                ended = begun.status if begun.status.is_terminal else None
        if run_id is None:
            state, started = TickState.START_FAILED, None
            self.failures += 1
            self.notes.skipped.append((self.name, "start_failed"))
        else:
            state, started = str(ended or TickState.RUNNING), self.now
            self._count_end(ended)
            if ended is None:
                self.running.append(self._row(nominal, state, run_id, started, None))
            self.notes.started.append((self.name, self.now - nominal if late else None))
        if buffered:
            self.tx.update_tick(
                self.name,
                nominal,
                state=state,
                run_id=run_id,
                started_ms=started,
                reason=reason,
                now=self.now,
            )
        else:
            self._record(nominal, state, run_id, started, reason)
        return run_id is not None

    def _count_end(self, ended: RunStatus | None) -> None:
        """Count a run's end towards the failures in a row (a completed run resets them)."""
        if ended == RunStatus.COMPLETED:
            self.failures = 0
        elif ended in FAILED_RUN_STATUSES:
            self.failures += 1

    def _row(
        self,
        nominal: int,
        state: str,
        run_id: str | None,
        started: int | None,
        reason: str | None,
    ) -> TickRow:
        return TickRow(
            self.name, nominal, self.row.workflow_name, run_id, state, started, reason, self.now
        )

    def _record(
        self,
        nominal: int,
        state: str,
        run_id: str | None,
        started: int | None,
        reason: str | None,
    ) -> None:
        self.tx.insert_tick(self._row(nominal, state, run_id, started, reason))
