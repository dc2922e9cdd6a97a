"""Async helpers for bridge tests (the test's own broker client shares their event loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.1)


async def register(api: httpx.AsyncClient, workflow: dict[str, Any]) -> None:
    response = await api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=workflow)
    assert response.status_code == 200, response.text


async def start(api: httpx.AsyncClient, name: str, correlation_id: str, data: Any = None) -> str:
    response = await api.post(
        f"/api/workflow/{name}", params={"correlationId": correlation_id}, json=data or {}
    )
    assert response.status_code == 200, response.text
    return response.text


async def finished(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/workflow/{run_id}")).json()
        return body if body["status"] in TERMINAL else None

    result: dict[str, Any] = await until(check, f"run {run_id} to end")
    return result


async def events_on(api: httpx.AsyncClient, topic: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await api.get("/api/events", params={"topic": topic})).json()
    return found


def event_flow(name: str, sink: str) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [
            {
                "name": "announce",
                "taskReferenceName": "announce",
                "type": "EVENT",
                "sink": sink,
                "inputParameters": {"orderId": "${workflow.input.orderId}"},
            }
        ],
    }
