"""Choreographed services: react to events from Podium's bus and publish what they did.

::

    def award_points(event: ReceivedEvent, out: EventOutbox) -> None:
        points = add_points(event.payload["customer"], event.payload["total"])
        out.publish("loyalty.points_awarded", {"points": points})

    EventConsumer("http://127.0.0.1:8080", service="loyalty", topic="order.shipped",
                  handler=award_points).run()

The consumer pulls from a subscription named after the service, acks each event its handler
returns from and nacks it with the error when the handler raises (it comes back, and is
dead-lettered after the subscription's attempts). What the handler publishes carries the
event's correlation id and names the event as its cause, so ``podium trace`` links it; the
ids it publishes with are derived from the event, so a redelivered event publishes nothing
twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podium.client import PodiumClient

__all__ = ["EventConsumer", "EventOutbox", "ReceivedEvent"]

log = logging.getLogger("podium.worker.events")
_NAMESPACE = uuid.UUID("0b7d7a5e-3f7c-4c1e-9a59-3c5e8f0a6d21")


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    id: str
    topic: str
    type: str
    payload: Any
    correlation_id: str | None = None
    causation_id: str | None = None
    source: str | None = None
    time: int = 0
    attempt: int = 1

    @classmethod
    def from_json(cls, data: Mapping[str, Any], attempt: int = 1) -> ReceivedEvent:
        return cls(
            id=str(data["id"]),
            topic=str(data["topic"]),
            type=str(data.get("type") or data["topic"]),
            payload=data.get("payload"),
            correlation_id=data.get("correlationId"),
            causation_id=data.get("causationId"),
            source=data.get("source"),
            time=int(data.get("time") or 0),
            attempt=attempt,
        )


@dataclass(slots=True)
class EventOutbox:
    """What a handler publishes in reaction to one event."""

    client: PodiumClient
    service: str
    cause: ReceivedEvent
    published: list[str] = field(default_factory=list)

    def publish(self, topic: str, payload: Any = None, *, type: str | None = None) -> str:
        """Publish on ``topic`` as this service, caused by the event being handled."""
        salt = f"{self.cause.id}/{self.service}/{topic}/{len(self.published)}"
        event_id = str(uuid.uuid5(_NAMESPACE, salt))
        self.client.publish_event(
            topic,
            payload,
            event_id=event_id,
            type=type,
            source=self.service,
            correlation_id=self.cause.correlation_id,
            causation_id=self.cause.id,
        )
        self.published.append(event_id)
        return event_id


Handler = Callable[[ReceivedEvent, EventOutbox], Any]


class EventConsumer:
    """One service's pull subscription (named ``subscription`` or after the service)."""

    def __init__(
        self,
        server: str | PodiumClient,
        *,
        service: str,
        topic: str,
        handler: Handler,
        subscription: str | None = None,
        max_attempts: int | None = None,
        batch: int = 10,
        lease_seconds: int = 30,
        idle_seconds: float = 0.2,
    ) -> None:
        self.client = server if isinstance(server, PodiumClient) else PodiumClient(server)
        self.service = service
        self.topic = topic
        self.handler = handler
        self.subscription = subscription or service
        self.max_attempts = max_attempts
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self._subscribed = False
        self.stopping = threading.Event()

    def subscribe(self) -> None:
        """Create the subscription; events published from then on are kept for it."""
        self.client.subscribe(self.subscription, self.topic, self.max_attempts)
        self._subscribed = True

    def run_once(self) -> int:
        """Handle what is there now (burst mode, for tests); how many events were handled."""
        if not self._subscribed:
            self.subscribe()
        leased = self.client.poll_events(
            self.subscription, self.service, self.batch, self.lease_seconds
        )
        for item in leased:
            event = ReceivedEvent.from_json(item["event"], int(item.get("attempt") or 1))
            outbox = EventOutbox(self.client, self.service, event)
            try:
                self.handler(event, outbox)
            except Exception as exc:
                log.warning("%s failed on event %s: %s", self.service, event.id, exc)
                # The delivery already names its subscriber: the error is only what went wrong.
                self.client.nack_event(self.subscription, event.id, str(exc))
                continue
            outcome = {"service": self.service, "published": outbox.published}
            self.client.ack_event(self.subscription, event.id, outcome)
        return len(leased)

    def run(self) -> None:
        """Handle events until ``stopping`` is set; a lost server is retried, not fatal."""
        while not self.stopping.is_set():
            try:
                handled = self.run_once()
            except Exception as exc:
                log.warning("%s could not reach the bus: %s", self.service, exc)
                handled = 0
            if not handled:
                self.stopping.wait(self.idle_seconds)

    def stop(self) -> None:
        self.stopping.set()
