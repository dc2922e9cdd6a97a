"""The choreographed half: notification and loyalty services react to ``order.shipped``.

Neither is part of the workflow, and the workflow does not know them: each takes the event
from its own subscription on Podium's bus, does its work and publishes what it did, with the
order's correlation id, so ``podium trace <order id>`` shows them next to the workflow.
"""

from __future__ import annotations

from typing import Any

from podium.client import PodiumClient
from podium.worker.events import EventConsumer, EventOutbox, ReceivedEvent

__all__ = ["BLOCKED_CUSTOMERS", "loyalty_service", "notification_service", "sent_notes"]

BLOCKED_CUSTOMERS = frozenset({"mallory"})
"""Loyalty refuses points to these customers, so a trace can show a service failing."""

sent_notes: list[dict[str, Any]] = []


def notify(event: ReceivedEvent, out: EventOutbox) -> None:
    note = {
        "to": event.payload["customer"],
        "text": f"Order {event.payload['orderId']} is on its way: {event.payload['trackingNumber']}",
    }
    sent_notes.append(note)
    out.publish("notification.sent", {"orderId": event.payload["orderId"], "channel": "email"})


def award_points(event: ReceivedEvent, out: EventOutbox) -> None:
    customer = event.payload["customer"]
    if customer in BLOCKED_CUSTOMERS:
        raise RuntimeError(f"customer {customer} is blocked from the loyalty programme")
    points = int(event.payload["total"]) // 10
    out.publish(
        "loyalty.points_awarded",
        {"orderId": event.payload["orderId"], "customer": customer, "points": points},
    )


def notification_service(server: str | PodiumClient) -> EventConsumer:
    return EventConsumer(server, service="notification", topic="order.shipped", handler=notify)


def loyalty_service(server: str | PodiumClient, max_attempts: int = 2) -> EventConsumer:
    return EventConsumer(
        server,
        service="loyalty",
        topic="order.shipped",
        handler=award_points,
        max_attempts=max_attempts,
    )
