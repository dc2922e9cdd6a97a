"""Helpers for event bus behaviour tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx


def publish(api: httpx.Client, topic: str, payload: Any = None, **envelope: Any) -> dict[str, Any]:
    response = api.post(f"/api/events/{topic}", json={"payload": payload or {}, **envelope})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def add_handler(api: httpx.Client, handler: dict[str, Any]) -> None:
    response = api.post("/api/event", json=handler)
    assert response.status_code == 200, response.text


def event(api: httpx.Client, event_id: str) -> dict[str, Any]:
    response = api.get(f"/api/events/id/{event_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def eventually(check: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.05)


def delivery(api: httpx.Client, event_id: str, subscriber: str) -> dict[str, Any] | None:
    for found in event(api, event_id)["deliveries"]:
        if found["subscriber"] == subscriber:
            return found  # type: ignore[no-any-return]
    return None


def settled(
    api: httpx.Client, event_id: str, subscriber: str, status: str = "DONE"
) -> dict[str, Any]:
    found: dict[str, Any] = eventually(
        lambda: (d := delivery(api, event_id, subscriber)) and d["status"] == status and d,
        what=f"delivery of {event_id} to {subscriber} {status}",
    )
    return found
