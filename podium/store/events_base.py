"""The event bus's part of the storage seam: events, handlers, subscriptions, deliveries.

Kept apart from ``base.py`` so the bus can grow without touching the run and queue protocol;
``StoreTx`` includes ``EventStoreTx``, so every unit of work can publish and deliver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["BusEvent", "Delivery", "DeliveryStatus", "EventStoreTx", "OutboxEntry"]


class DeliveryStatus:
    PENDING = "PENDING"
    DONE = "DONE"
    DEAD = "DEAD"
    """Dead-lettered: it failed ``max_attempts`` times; replaying makes it PENDING again."""


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One event as the bus keeps it. ``run_id``/``task_id`` name the EVENT task that
    published it, ``causation_id`` the event it reacts to: both feed the trace."""

    event_id: str
    topic: str
    type: str
    time: int
    payload: Any
    source: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one subscriber: ``kind`` is "handler" or "pull"."""

    event_id: str
    kind: str
    subscriber: str
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: int
    lease_owner: str | None
    last_error: str | None
    outcome: dict[str, Any] | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    event_id: str
    broker: str
    destination: str
    attempts: int


class EventStoreTx(Protocol):
    # events
    def insert_event(self, event: BusEvent) -> int | None:
        """Keep ``event``; its sequence number, or None when its id is already kept."""
        ...

    def get_event(self, event_id: str) -> BusEvent | None: ...
    def list_events(
        self,
        *,
        topic: str | None = None,
        correlation_id: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[BusEvent]: ...

    # handlers and subscriptions
    def put_handler(
        self, name: str, event: str, active: bool, body: dict[str, Any], now: int
    ) -> None: ...
    def get_handler(self, name: str) -> dict[str, Any] | None: ...
    def list_handlers(self) -> list[dict[str, Any]]: ...
    def delete_handler(self, name: str) -> bool: ...
    def put_subscription(self, name: str, topic: str, max_attempts: int, now: int) -> None: ...
    def list_subscriptions(self) -> list[dict[str, Any]]: ...
    def delete_subscription(self, name: str) -> bool: ...

    # deliveries
    def add_delivery(
        self, event_id: str, kind: str, subscriber: str, max_attempts: int, now: int
    ) -> None: ...
    def due_deliveries(self, kind: str, now: int, limit: int) -> list[tuple[str, str]]:
        """``(event_id, subscriber)`` of pending deliveries due by ``now``, oldest first."""
        ...

    def lock_delivery(self, event_id: str, kind: str, subscriber: str) -> Delivery | None:
        """The pending delivery, held until commit; None if done, dead or held elsewhere."""
        ...

    def update_delivery(self, delivery: Delivery) -> None: ...
    def claim_deliveries(
        self, subscriber: str, owner: str, count: int, now: int, lease_ms: int
    ) -> list[Delivery]:
        """Lease up to ``count`` due deliveries of a pull subscription, counting an attempt."""
        ...

    def deliveries_of(self, event_ids: list[str]) -> list[Delivery]: ...
    def dead_letters(self, subscriber: str | None, limit: int) -> list[Delivery]: ...
    def replay_dead(self, event_id: str | None, subscriber: str | None, now: int) -> int:
        """Make dead-lettered deliveries pending again with fresh attempts; how many."""
        ...

    def next_delivery_due(self, kind: str) -> int | None: ...

    # WAIT tasks waiting for an event
    def put_event_wait(
        self, task_id: str, run_id: str, event: str, correlation_id: str | None, now: int
    ) -> None: ...
    def matching_event_waits(
        self, names: list[str], correlation_id: str | None
    ) -> list[tuple[str, str]]:
        """``(task_id, run_id)`` of waits for any of ``names`` with that correlation id (or
        none), oldest first."""
        ...

    def delete_event_wait(self, task_id: str) -> None: ...

    # the outbox for external brokers
    def add_outbox(self, event_id: str, broker: str, destination: str, now: int) -> None: ...
    def claim_outbox(self, broker: str, now: int, limit: int, lease_ms: int) -> list[OutboxEntry]:
        """Entries due for ``broker``, leased until ``now + lease_ms`` (sent after commit)."""
        ...

    def delete_outbox(self, entry_id: int) -> None: ...
    def retry_outbox(self, entry_id: int, error: str, next_attempt_at: int) -> None: ...
    def next_outbox_due(self, broker: str) -> int | None: ...
