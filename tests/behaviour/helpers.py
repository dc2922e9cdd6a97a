"""Small helpers for driving the REST API in behaviour tests."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from podium.observability.logs import UNITS_LOGGER

TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED", "COMPENSATED", "COMPENSATION_FAILED"}


def register(
    api: httpx.Client, workflow: dict[str, Any], task_defs: list[dict[str, Any]] | None = None
) -> None:
    if task_defs:
        response = api.post("/api/metadata/taskdefs", json=task_defs)
        assert response.status_code == 200, response.text
    response = api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=workflow)
    assert response.status_code == 200, response.text


def bearer(key: dict[str, str]) -> dict[str, str]:
    """The header that sends ``key`` (an answer of ``POST /api/keys``)."""
    return {"authorization": f"Bearer {key['keyId']}:{key['keySecret']}"}


def make_keys(api: httpx.Client, specs: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Each key of ``specs`` (key id: its roles, task types, grants) made through ``api``."""
    made: dict[str, dict[str, str]] = {}
    for key_id, spec in specs.items():
        answer = api.post("/api/keys", json={"keyId": key_id, **spec})
        assert answer.status_code == 200, answer.text
        made[key_id] = answer.json()
    return made


@contextmanager
def key_clients(
    url: str, keys: dict[str, dict[str, str]]
) -> Iterator[Callable[[str], httpx.Client]]:
    """A maker of clients of the server at ``url``, each sending one of ``keys`` by its id;
    they are closed on leaving."""
    clients: list[httpx.Client] = []

    def client(key_id: str) -> httpx.Client:
        made = httpx.Client(base_url=url, headers=bearer(keys[key_id]), timeout=30)
        clients.append(made)
        return made

    try:
        yield client
    finally:
        for made in clients:
            made.close()


def start(api: httpx.Client, name: str, data: dict[str, Any] | None = None, **params: Any) -> str:
    response = api.post(f"/api/workflow/{name}", params=params, json=data or {})
    assert response.status_code == 200, response.text
    return response.text


def run(api: httpx.Client, run_id: str) -> dict[str, Any]:
    response = api.get(f"/api/workflow/{run_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_status(
    api: httpx.Client, run_id: str, statuses: set[str] | None = None, timeout: float = 20
) -> dict[str, Any]:
    wanted = statuses or TERMINAL
    deadline = time.monotonic() + timeout
    while True:
        body = run(api, run_id)
        if body["status"] in wanted:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} stayed {body['status']}: {body}")
        time.sleep(0.05)


def poll(
    api: httpx.Client, task_type: str, worker: str = "w1", count: int = 1, timeout_ms: int = 2000
) -> list[dict[str, Any]]:
    response = api.get(
        f"/api/tasks/poll/batch/{task_type}",
        params={"workerid": worker, "count": count, "timeout": timeout_ms},
    )
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def complete(
    api: httpx.Client,
    task: dict[str, Any],
    output: dict[str, Any] | None = None,
    status: str = "COMPLETED",
    worker: str = "w1",
    reason: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": status,
        "outputData": output or {},
        "workerId": worker,
    }
    if reason is not None:
        body["reasonForIncompletion"] = reason
    return api.post("/api/tasks", json=body)


def task_of(body: dict[str, Any], ref: str) -> dict[str, Any]:
    matches = [t for t in body["tasks"] if t["referenceTaskName"] == ref]
    assert matches, f"no task {ref} in {[t['referenceTaskName'] for t in body['tasks']]}"
    return matches[-1]


@contextmanager
def units_logged_to(handler: logging.Handler) -> Iterator[None]:
    """Send the server's one-line-per-unit log (INFO) to ``handler`` while inside."""
    logger = logging.getLogger(UNITS_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
