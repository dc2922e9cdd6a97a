"""Retention: ended runs older than the configured age leave the live tables.

In ``delete`` mode the event bus's events past the same age go too, once nothing needs them
any more: no delivery still pending, nothing left to send to a broker. (``archive`` keeps
them: the archive is for history, and events have no table of their own there.) A run's
idempotency key goes with the run, so a start with that key later begins a new run instead
of answering with one that no longer exists. A schedule's record of a tick goes once it is
as old, unless its run still runs (the scheduler watches it) or it waits to start. The
outcomes SLOs are computed from go once older than that age and than every SLO's window.

Runs go in small batches, each its own transaction, with a pause between batches, so a large
backlog never holds up live work; on PostgreSQL a run some instance is deciding for right now
is skipped and taken by a later batch. Every instance may run this; they do not collide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from podium.errors import PodiumError, ValidationError
from podium.server.background import BackgroundTask
from podium.slo.model import parse_slo
from podium.store.base import Store, StoreTx

__all__ = ["Retention"]

log = logging.getLogger("podium.retention")
_DAY_MS = 86_400_000
MODES = ("delete", "archive")


class Retention:
    def __init__(
        self,
        store: Store,
        *,
        max_age_days: float,
        mode: str = "delete",
        batch: int = 500,
        interval_s: float = 60.0,
        clock: Callable[[], int],
    ) -> None:
        if mode not in MODES:
            raise ValidationError(
                f"retention mode must be one of {', '.join(MODES)}, not {mode!r}",
                field="retention_mode",
            )
        if max_age_days < 0 or batch < 1:
            raise ValidationError(
                "retention needs an age of 0 days or more and a batch of at least 1",
                field="retention_days",
            )
        self.store = store
        self.max_age_ms = int(max_age_days * _DAY_MS)
        self.archive = mode == "archive"
        self.batch = batch
        self.interval_s = interval_s
        self.clock = clock
        self._background = BackgroundTask("podium-retention", self._run)

    async def run_once(self, pause_s: float = 0.05) -> int:
        """Remove every run that is due now, batch by batch; returns how many went.

        The records of schedule ticks as old go afterwards (but those still open), and in
        ``delete`` mode settled events too."""
        removed = await self._in_batches(self._runs_batch, pause_s)
        ticks = await self._in_batches(self._ticks_batch, pause_s)
        if ticks:
            log.info("retention deleted %d schedule tick records", ticks)
        outcomes = await self._in_batches(self._outcomes_batch, pause_s)
        if outcomes:
            log.info("retention deleted %d SLO outcome records", outcomes)
        if not self.archive:
            events = await self._in_batches(self._events_batch, pause_s)
            if events:
                log.info("retention deleted %d settled events", events)
        return removed

    async def _in_batches(self, batch: Callable[[int], Awaitable[int]], pause_s: float) -> int:
        removed = 0
        while True:
            count = await batch(self.clock())
            removed += count
            if count < self.batch:
                return removed
            await asyncio.sleep(pause_s)  # let live work in between batches

    async def _runs_batch(self, now: int) -> int:
        cutoff = now - self.max_age_ms
        count: int = await self.store.write(
            lambda tx: tx.remove_ended_runs(cutoff, self.batch, archive=self.archive, now=now)
        )
        return count

    async def _ticks_batch(self, now: int) -> int:
        cutoff = now - self.max_age_ms
        count: int = await self.store.write(lambda tx: tx.remove_old_ticks(cutoff, self.batch))
        return count

    async def _outcomes_batch(self, now: int) -> int:
        def unit(tx: StoreTx) -> int:
            windows = [parse_slo(row.body).window_ms for row in tx.list_slos()]
            cutoff = now - max([self.max_age_ms, *windows])
            return tx.remove_outcomes(cutoff, self.batch)

        count: int = await self.store.write(unit)
        return count

    async def _events_batch(self, now: int) -> int:
        cutoff = now - self.max_age_ms
        count: int = await self.store.write(lambda tx: tx.remove_settled_events(cutoff, self.batch))
        return count

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            try:
                removed = await self.run_once()
                if removed:
                    verb = "archived" if self.archive else "deleted"
                    log.info("retention %s %d ended runs", verb, removed)
            except PodiumError:
                log.exception("retention failed; trying again later")
            await asyncio.sleep(self.interval_s)
