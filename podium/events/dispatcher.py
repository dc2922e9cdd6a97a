"""Delivering events to handlers: a loop any server instance may run.

Each delivery is one unit of work: lock the delivery row (PostgreSQL skips a row another
instance holds, so each delivery is processed by one instance at a time), run the handler,
mark it done — all in one transaction. When the handler fails, that transaction is rolled
back and a second one records the attempt; after ``max_attempts`` the delivery is
dead-lettered, to be replayed by hand. Retries back off exponentially.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace

from podium.errors import HandlerFailedError
from podium.events.actions import run_handler
from podium.events.model import EventHandler
from podium.events.ports import RunOps
from podium.resilience.backoff import backoff_delay
from podium.server.background import PokedLoop
from podium.server.orchestrator import Orchestrator
from podium.store.base import StoreTx
from podium.store.events_base import DeliveryStatus

__all__ = ["Dispatcher", "retry_delay_ms"]

log = logging.getLogger("podium.events")
_BATCH = 50


def retry_delay_ms(attempts: int, base_ms: int, rng: random.Random | None = None) -> int:
    """The delay after ``attempts`` failures: ``base_ms`` doubled at each, capped at five
    minutes, with equal jitter, so that the deliveries of one outage do not all come due in
    the same instant."""
    cap = max(base_ms, 300_000)
    return int(backoff_delay(max(0, attempts - 1), base_ms, cap, jitter="equal", rng=rng))


class Dispatcher(PokedLoop):
    def __init__(
        self, orchestrator: Orchestrator, *, max_sleep_s: float = 1.0, retry_base_ms: int = 500
    ) -> None:
        super().__init__("podium-events", lambda: orchestrator.clock(), max_sleep_s, log)
        self.orchestrator = orchestrator
        self.retry_base_ms = retry_base_ms

    async def one_pass(self) -> int | None:
        return await self.dispatch_due()

    async def dispatch_due(self) -> int | None:
        """Deliver what is due now; when the next delivery falls due (None: none pending)."""
        store = self.orchestrator.store
        while True:
            now = self.orchestrator.clock()
            due = await store.read(
                lambda tx, now=now: tx.due_deliveries("handler", now, _BATCH)  # type: ignore[misc]
            )
            for event_id, handler in due:
                await self._deliver(event_id, handler)
            if len(due) < _BATCH:
                break
        found: int | None = await store.read(lambda tx: tx.next_delivery_due("handler"))
        return found

    async def _deliver(self, event_id: str, handler: str) -> None:
        now = self.orchestrator.clock()
        try:
            await self.orchestrator.write_events(
                lambda tx, ops: self._attempt(tx, ops, event_id, handler, now)
            )
        except Exception as exc:
            # A handler's own failure is recorded as its message, as it always was.
            reason = exc.message if isinstance(exc, HandlerFailedError) else str(exc)
            reason = reason or type(exc).__name__
            log.warning("handler %s failed on event %s: %s", handler, event_id, reason)
            await self.orchestrator.write_events(
                lambda tx, ops: self._failed(tx, event_id, handler, reason, now)
            )

    def _attempt(self, tx: StoreTx, ops: RunOps, event_id: str, name: str, now: int) -> None:
        delivery = tx.lock_delivery(event_id, "handler", name)
        if delivery is None or delivery.next_attempt_at > now:
            return  # done, dead, or being delivered by another instance
        event = tx.get_event(event_id)
        body = tx.get_handler(name)
        if event is None or body is None or not body.get("active", True):
            outcome = {"skipped": "the handler was removed or disabled"}
        else:
            outcome = run_handler(tx, ops, EventHandler.model_validate(body), event, now)
        tx.update_delivery(
            replace(
                delivery,
                status=DeliveryStatus.DONE,
                attempts=delivery.attempts + 1,
                outcome=outcome,
                last_error=None,
                updated_at=now,
            )
        )

    def _failed(self, tx: StoreTx, event_id: str, name: str, reason: str, now: int) -> None:
        delivery = tx.lock_delivery(event_id, "handler", name)
        if delivery is None:
            return
        attempts = delivery.attempts + 1
        dead = attempts >= delivery.max_attempts
        tx.update_delivery(
            replace(
                delivery,
                status=DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING,
                attempts=attempts,
                next_attempt_at=now + retry_delay_ms(attempts, self.retry_base_ms),
                # Kept in a text column: a NUL (from a value the event carried) would fail
                # this write on PostgreSQL, and the delivery would never be let go.
                last_error=reason[:2000].replace("\x00", "\\x00"),
                updated_at=now,
            )
        )
