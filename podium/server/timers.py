"""The sweep's unit of work: expired leases ended (``leases``), due timers fired.

Firing a timer decides its run, which may be a long one going on from its step budget
(``CONTINUE_TIMER_KEY``): the unit stops firing once it has run for ``FIRING_BUDGET_S`` and puts
the timers it did not reach back as due, so the next sweep, after the writes queued
meanwhile, takes them up. The first due timer always fires, so every sweep gets somewhere.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from podium.engine.events import TimerFired
from podium.errors import PodiumError
from podium.server.leases import end_expired_leases
from podium.server.units import Outbox
from podium.store.base import StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator

__all__ = ["FIRING_BUDGET_S", "sweep_tx"]

log = logging.getLogger("podium.server")

FIRING_BUDGET_S = 0.1
"""How long one sweep may spend firing timers before it leaves the rest to the next."""

_TIMERS_PER_SWEEP = 200


def sweep_tx(
    orchestrator: Orchestrator, tx: StoreTx, outbox: Outbox, now: int, last_sweep: int
) -> int | None:
    """Sweep once; returns when the next sweep is needed (None: only on a poke)."""
    end_expired_leases(orchestrator, tx, outbox, now)
    outbox.ready_queues.update(tx.queues_ready_between(last_sweep, now))
    began = time.perf_counter()
    due = tx.take_due_timers(now, _TIMERS_PER_SWEEP)
    behind = False
    for position, (run_id, key) in enumerate(due):
        if position and time.perf_counter() - began > FIRING_BUDGET_S:
            for later_run, later_key in due[position:]:
                tx.put_timer(later_run, later_key, now)
            behind = True
            break
        if tx.get_run(run_id) is None:
            continue
        try:
            orchestrator.event_tx(tx, outbox, run_id, TimerFired(now, key))
        except PodiumError:
            # A timer the run can no longer use must not block the timers behind it.
            log.exception("timer %s of run %s could not fire", key, run_id)
    outbox.poke_sweeper = False  # this sweep computes its own next wake-up below
    candidates = [
        now if behind else None,
        tx.next_timer_due(),
        tx.next_available_at(now),
        tx.next_lease_expiry(),
    ]
    moments = [moment for moment in candidates if moment is not None]
    return min(moments) if moments else None
