"""The scheduler: starts schedules' runs when their ticks are due (``schedule_ticks``).

It sleeps until the earliest next tick of any schedule, or until poked (a schedule saved,
resumed or backfilled), at most ``max_sleep_s``, so that it also sees in time a run it
started end (a buffered tick waits for that; failures are counted from it) and schedules
another instance saved. Each schedule is acted on in a unit of work of its own that holds
its row: on PostgreSQL one taken with ``SKIP LOCKED``, so instances ticking at once share the
schedules and never both act on one; a tick's row then keeps any later look from starting
its run again. Every instance may run this.
"""

from __future__ import annotations

import functools
import logging

from podium.errors import NotFoundError, ValidationError
from podium.schedules import Overlap, SpecError, next_ticks, parse_spec
from podium.schedules.timing import MAX_DUE_TICKS
from podium.server.background import PokedLoop
from podium.server.orchestrator import Orchestrator
from podium.server.schedule_ticks import ScheduleUnit, TickNotes
from podium.server.units import Outbox
from podium.store.base import StoreTx
from podium.store.schedules_base import ScheduleRow

__all__ = ["Backfill", "ScheduleNotFoundError", "Scheduler"]

log = logging.getLogger("podium.scheduler")


class ScheduleNotFoundError(NotFoundError):
    """No schedule has that name."""

    code = "E_SCHEDULE_NOT_FOUND"


class Backfill:
    """What a backfill did: every tick of its range, and those it started (or buffered)."""

    __slots__ = ("scheduled", "started")

    def __init__(self, scheduled: list[int], started: list[int]) -> None:
        self.scheduled = scheduled
        self.started = started


class Scheduler(PokedLoop):
    def __init__(
        self, orchestrator: Orchestrator, *, max_sleep_s: float = 1.0, batch: int = 200
    ) -> None:
        super().__init__("podium-scheduler", lambda: orchestrator.clock(), max_sleep_s, log)
        self.orchestrator = orchestrator
        self.batch = batch

    async def one_pass(self) -> int | None:
        return await self.tick_once()

    # ---- one pass --------------------------------------------------------------------------

    async def tick_once(self) -> int | None:
        """Act on every schedule due now or with runs to watch; when to look next (None: no
        schedule has a tick due, or all ticking is paused)."""
        store = self.orchestrator.store
        now = self.orchestrator.clock()
        after: str | None = None
        acted = failed = False
        while True:
            ticking, names, next_due = await store.read(
                functools.partial(self._look, now=now, after=after)
            )
            for name in names:
                acted = True
                try:
                    await self._act(name, now, ticking=ticking)
                except Exception:
                    # One schedule's trouble (even a bug) must not hold the others up, nor end
                    # the loop: it is logged and the schedule is tried again at the next pass.
                    log.exception("schedule %s: acting on its ticks failed", name)
                    failed = True
            if len(names) < self.batch:
                break
            after = names[-1]  # the next page: a pass looks at each schedule once
        if not ticking:
            return None  # nothing is due until resumed (which pokes)
        if acted:  # the schedules acted on have moved on: ask again
            next_due = await store.read(lambda tx: tx.next_schedule_due())
        if failed and next_due is not None:
            # The one that failed is still due: try it again after a nap, not at once.
            next_due = max(next_due, now + int(self.max_sleep_s * 1000))
        return next_due

    def _look(
        self, tx: StoreTx, *, now: int, after: str | None
    ) -> tuple[bool, list[str], int | None]:
        """Whether schedules tick, those to act on now, and when the next is due (one read:
        an idle server looks every sweep interval)."""
        ticking = not tx.schedules_paused()
        names = tx.schedules_to_check(now, self.batch, ticking=ticking, after=after)
        return ticking, names, tx.next_schedule_due()

    async def _act(self, name: str, now: int, *, ticking: bool) -> None:
        def unit(tx: StoreTx, outbox: Outbox) -> TickNotes:
            notes = TickNotes()  # afresh per attempt, as the outbox is
            row = tx.lock_schedule(name)
            if row is None:  # deleted, or another instance is acting on it
                return notes
            try:
                spec = parse_spec(row.body)
            except SpecError as exc:
                # Checked when saved; a body this release cannot read waits for a person.
                tx.set_schedule_paused(name, True, f"cannot read: {exc}", now, next_tick_ms=None)
                return notes
            ScheduleUnit(self.orchestrator, tx, outbox, notes, row, spec, now).act(ticking=ticking)
            return notes

        notes = await self.orchestrator.write_unit(unit, "schedule")
        self._count(notes)

    # ---- backfill --------------------------------------------------------------------------

    async def backfill(
        self, name: str, start_ms: int, end_ms: int, overlap: Overlap | None = None
    ) -> Backfill:
        """Act on every tick of ``name`` in ``[start_ms, end_ms]`` (up to now) that was never
        acted on, as ``overlap`` (the schedule's own policy by default) says, without jitter.
        A tick acted on before is left be, so a backfill repeated starts nothing more."""
        now = self.orchestrator.clock()
        if end_ms < start_ms:
            raise ValidationError("endTime is before startTime", field="endTime")

        def unit(tx: StoreTx, outbox: Outbox) -> tuple[Backfill, TickNotes]:
            notes = TickNotes()
            row = _schedule(tx, name)
            spec = parse_spec(row.body)
            ticks = next_ticks(spec, start_ms - 1, MAX_DUE_TICKS + 1, until_ms=min(end_ms, now))
            if len(ticks) > MAX_DUE_TICKS:
                raise ValidationError(
                    f"the range holds more than {MAX_DUE_TICKS} ticks: backfill it in parts",
                    field="endTime",
                )
            acting = ScheduleUnit(self.orchestrator, tx, outbox, notes, row, spec, now)
            acting.settle()
            policy = overlap or spec.overlap
            started = [tick for tick in ticks if acting.act_on(tick, policy, late=False)]
            tx.advance_schedule(
                name,
                next_tick_ms=row.next_tick_ms,
                last_tick_ms=row.last_tick_ms,
                consecutive_failures=acting.failures,
                now=now,
            )
            return Backfill(ticks, started), notes

        done, notes = await self.orchestrator.write_unit(unit, "schedule")
        self._count(notes)
        self.poke()  # a buffered tick of the backfill waits for the running run to end
        result: Backfill = done
        return result

    # ---- after commit ----------------------------------------------------------------------

    def _count(self, notes: TickNotes) -> None:
        metrics = self.orchestrator.observer.metrics
        for schedule, late_ms in notes.started:
            metrics.schedule_ticks_started.labels(schedule).inc()
            if late_ms is not None:
                metrics.schedule_late.labels(schedule).observe(max(0, late_ms) / 1000)
        for schedule, reason in notes.skipped:
            metrics.schedule_ticks_skipped.labels(schedule, reason).inc()
        for schedule, count in notes.missed:
            metrics.schedule_ticks_missed.labels(schedule).inc(count)


def _schedule(tx: StoreTx, name: str) -> ScheduleRow:
    """The schedule, held until commit (waiting for an instance acting on it)."""
    row = tx.get_schedule(name, for_update=True)
    if row is None:
        raise ScheduleNotFoundError(f"no schedule '{name}'", service="server", field="name")
    return row
