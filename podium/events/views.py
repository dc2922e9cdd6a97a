"""Deliveries as the API shows them."""

from __future__ import annotations

from typing import Any

from podium.store.events_base import Delivery

__all__ = ["delivery_json"]


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "eventId": delivery.event_id,
        "kind": delivery.kind,
        "subscriber": delivery.subscriber,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "maxAttempts": delivery.max_attempts,
        "nextAttemptAt": delivery.next_attempt_at,
        "lastError": delivery.last_error,
        "outcome": delivery.outcome,
        "updatedAt": delivery.updated_at,
    }
