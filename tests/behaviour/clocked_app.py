"""The app in-process on a test's store, with a clock the test sets: end times, enqueue times
and ages are then known to the millisecond. No lifespan runs, so no background loop moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from podium.server.app import create_app
from podium.settings import Settings
from podium.store.base import Store
from podium.store.postgres import PostgresStore
from podium.store.sqlite import SQLiteStore
from tests.conftest import StoreChoice


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def at(self, ms: int) -> None:
        self.now = ms


@dataclass
class ClockedApp:
    api: httpx.AsyncClient
    clock: Clock
    app: Any


def new_store(choice: StoreChoice) -> Store:
    """A store of its own on the test's database, opened by the caller."""
    if choice.backend == "postgres":
        assert choice.postgres_url is not None
        return PostgresStore(choice.postgres_url, schema=choice.schema, pool_size=4)
    return SQLiteStore(choice.sqlite_path)


@asynccontextmanager
async def clocked_app(choice: StoreChoice, now: int) -> AsyncIterator[ClockedApp]:
    store = new_store(choice)
    await store.open()
    app = create_app(Settings(), store=store)
    clock = Clock(now)
    app.state.orchestrator.clock = clock
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://podium")
    try:
        yield ClockedApp(api, clock, app)
    finally:
        await api.aclose()
        await store.close()


def one_step(name: str, task_type: str) -> dict[str, Any]:
    """A workflow ``name`` of one worker task of ``task_type`` (reference ``t``)."""
    return {
        "name": name,
        "tasks": [{"name": task_type, "taskReferenceName": "t", "type": "SIMPLE"}],
    }


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


async def register(api: httpx.AsyncClient, workflow: dict[str, Any], defs: list[Any]) -> None:
    ok(await api.post("/api/metadata/taskdefs", json=defs))
    ok(await api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=workflow))


async def start(api: httpx.AsyncClient, name: str) -> str:
    response = await api.post(f"/api/workflow/{name}", json={})
    assert response.status_code == 200, response.text
    return response.text


async def poll(api: httpx.AsyncClient, task_type: str, count: int = 1) -> list[dict[str, Any]]:
    response = await api.get(
        f"/api/tasks/poll/batch/{task_type}",
        params={"workerid": "w1", "count": count, "timeout": 0},
    )
    tasks: list[dict[str, Any]] = ok(response)
    return tasks


async def finish(
    api: httpx.AsyncClient, task: dict[str, Any], status: str, reason: str | None = None
) -> None:
    body: dict[str, Any] = {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": status,
        "outputData": {},
        "workerId": "w1",
    }
    if reason is not None:
        body["reasonForIncompletion"] = reason
    response = await api.post("/api/tasks", json=body)
    assert response.status_code == 200, response.text


async def run_of(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await api.get(f"/api/workflow/{run_id}"))
    return body
