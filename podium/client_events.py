"""The event bus part of ``PodiumClient``: publish, handlers, pull subscriptions, traces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["EventsApi"]


def _segment(value: str) -> str:
    return quote(value, safe="")


class EventsApi:
    """Mixed into ``PodiumClient``; every method is one request."""

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def publish_event(
        self,
        topic: str,
        payload: Any = None,
        *,
        event_id: str | None = None,
        type: str | None = None,
        source: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        time: int | None = None,
    ) -> dict[str, Any]:
        """Publish on ``topic``: ``{"id", "duplicate", "deliveries", "completedTasks"}``.

        Give ``event_id`` to publish at least once safely: a repeated id changes nothing.
        """
        envelope = {
            "id": event_id,
            "type": type,
            "source": source,
            "correlationId": correlation_id,
            "causationId": causation_id,
            "time": time,
            "payload": payload if payload is not None else {},
        }
        body = {key: value for key, value in envelope.items() if value is not None}
        result: dict[str, Any] = self._json(
            "POST", f"/api/events/{_segment(topic)}", json_body=body
        )
        return result

    def list_events(
        self,
        *,
        topic: str | None = None,
        correlation_id: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        params = {"topic": topic, "correlationId": correlation_id, "after": after, "limit": limit}
        return list(self._json("GET", "/api/events", params=params) or [])

    def get_event(self, event_id: str) -> dict[str, Any]:
        """One event with its deliveries."""
        body: dict[str, Any] = self._json("GET", f"/api/events/id/{_segment(event_id)}")
        return body

    def dead_letters(self, subscriber: str | None = None) -> list[dict[str, Any]]:
        return list(
            self._json("GET", "/api/events/dead-letters", params={"subscriber": subscriber}) or []
        )

    def replay_dead_letters(
        self, event_id: str | None = None, subscriber: str | None = None
    ) -> int:
        """Deliver dead letters again; how many were replayed."""
        body = {"eventId": event_id, "subscriber": subscriber}
        json_body = {key: value for key, value in body.items() if value is not None}
        result = self._json("POST", "/api/events/dead-letters/replay", json_body=json_body)
        return int(result["replayed"])

    def add_event_handler(self, handler: Mapping[str, Any], *, update: bool = False) -> None:
        """Register an event handler (Conductor's shape); ``update`` replaces an existing one."""
        self._json("PUT" if update else "POST", "/api/event", json_body=dict(handler))

    def list_event_handlers(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/api/event") or [])

    def remove_event_handler(self, name: str) -> None:
        self._json("DELETE", f"/api/event/{_segment(name)}")

    def subscribe(self, name: str, topic: str, max_attempts: int | None = None) -> None:
        """Create (or change) a pull subscription ``name`` on ``topic`` (globs allowed)."""
        body: dict[str, Any] = {"name": name, "topic": topic}
        if max_attempts is not None:
            body["maxAttempts"] = max_attempts
        self._json("POST", "/api/subscriptions", json_body=body)

    def poll_events(
        self, subscription: str, consumer: str, count: int = 10, lease_seconds: int = 30
    ) -> list[dict[str, Any]]:
        """Lease events: ``[{"event": {...}, "attempt": n}]``; ack or nack each."""
        params = {"consumer": consumer, "count": count, "leaseSeconds": lease_seconds}
        path = f"/api/subscriptions/{_segment(subscription)}/poll"
        return list(self._json("GET", path, params=params) or [])

    def ack_event(
        self, subscription: str, event_id: str, outcome: Mapping[str, Any] | None = None
    ) -> None:
        body: dict[str, Any] = {"eventId": event_id}
        if outcome is not None:
            body["outcome"] = dict(outcome)
        self._json("POST", f"/api/subscriptions/{_segment(subscription)}/ack", json_body=body)

    def nack_event(self, subscription: str, event_id: str, error: str) -> None:
        body = {"eventId": event_id, "error": error}
        self._json("POST", f"/api/subscriptions/{_segment(subscription)}/nack", json_body=body)

    def trace(self, correlation_id: str) -> dict[str, Any]:
        """The business transaction ``correlation_id``: timeline, causal graph, problems."""
        body: dict[str, Any] = self._json("GET", f"/api/trace/{_segment(correlation_id)}")
        return body
