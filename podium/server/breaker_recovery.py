"""Runs failed at once by an open breaker are retried when it closes, for a service that asks
(``retryWhenBreakerCloses``).

Nothing is written to remember what was retried: each pass looks at every such service whose
breaker's latest transition closed it, takes the span from the opening of that episode to the
close, and retries the runs still FAILED whose failure is the open breaker's and ended in that
span. A retried run is RUNNING, and one that fails again ends after the close, so no run is
retried twice for one episode; a server that stopped before its pass leaves the work to the
next pass of any instance. A pass runs when this instance closes a breaker and at least every
``interval_s`` (a close by another instance, or by an operator's reset).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from podium.engine.events import RetryRun
from podium.errors import PodiumError
from podium.resilience.breaker import Circuit
from podium.resilience.policy import failed_fast_reason
from podium.server.background import PokedLoop
from podium.server.bulk_rerun import MAX_LISTED, RerunFilter, matching_runs, mismatch
from podium.server.orchestrator import Orchestrator
from podium.store.base import StoreTx

__all__ = ["BreakerRecovery", "Episode", "closed_episodes"]

log = logging.getLogger("podium.resilience")

_EVENTS_READ = 200


@dataclass(frozen=True, slots=True)
class Episode:
    """A service's breaker, open from ``opened_at`` until it closed at ``closed_at``."""

    service: str
    opened_at: int
    closed_at: int

    def filter(self) -> RerunFilter:
        return RerunFilter(
            service=self.service,
            ended_after=self.opened_at,
            ended_before=self.closed_at,
            reason_contains=failed_fast_reason(self.service),
        )


def closed_episodes(tx: StoreTx, services: list[str]) -> list[Episode]:
    """The latest episode of each of ``services`` whose breaker is closed now."""
    episodes: list[Episode] = []
    for service in services:
        events = tx.breaker_events(service, _EVENTS_READ)  # newest first
        if not events or events[0]["to"] != Circuit.CLOSED:
            continue
        opened = [e["at"] for e in events[1:] if e["to"] == Circuit.OPEN]
        opened_from_closed = [
            e["at"] for e in events[1:] if e["to"] == Circuit.OPEN and e["from"] == Circuit.CLOSED
        ]
        # The episode began when a closed breaker opened; half-open trials that failed opened
        # it again within the same episode.
        start = opened_from_closed[0] if opened_from_closed else (opened[-1] if opened else None)
        if start is not None:
            episodes.append(Episode(service, int(start), int(events[0]["at"])))
    return episodes


class BreakerRecovery(PokedLoop):
    """The loop that retries the runs of closed breakers' episodes: poked when a breaker
    closes here, and every ``interval_s`` for those closed elsewhere."""

    def __init__(self, orchestrator: Orchestrator, *, interval_s: float = 30.0) -> None:
        super().__init__("podium-breaker-recovery", lambda: orchestrator.clock(), interval_s, log)
        self.orchestrator = orchestrator

    async def one_pass(self) -> int | None:
        await self.recover_once()
        return None

    async def recover_once(self) -> list[str]:
        """One pass; the ids of the runs it retried."""
        orchestrator = self.orchestrator
        policy, definitions = orchestrator.policy, orchestrator.definitions

        def unit(tx: StoreTx) -> list[tuple[Episode, list[str]]]:
            opted = [s.name for s in policy.services(tx).values() if s.retryWhenBreakerCloses]
            found = []
            for episode in closed_episodes(tx, opted):
                runs, _ = matching_runs(tx, policy, definitions, episode.filter(), MAX_LISTED)
                if runs:
                    found.append((episode, [run.run_id for run in runs]))
            return found

        retried: list[str] = []
        for episode, run_ids in await orchestrator.store.read(unit):
            flt = episode.filter()
            before = len(retried)
            for run_id in run_ids:

                def check(tx: StoreTx, run_id: str = run_id, flt: RerunFilter = flt) -> str | None:
                    return mismatch(tx, policy, definitions, flt, run_id)

                if await orchestrator.store.read(check) is not None:
                    continue  # retried by someone else meanwhile
                try:
                    await orchestrator.act(run_id, RetryRun)
                except PodiumError as exc:
                    log.info("run %s not retried after its breaker closed: %s", run_id, exc)
                else:
                    retried.append(run_id)
            log.warning(
                "circuit breaker of service %s closed: retried %d runs it had failed",
                episode.service,
                len(retried) - before,
            )
        return retried
