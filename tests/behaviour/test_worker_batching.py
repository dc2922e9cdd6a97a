"""The Python worker SDK against a real server: results posted together with update-batch."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from podium.worker import WorkerRunner, worker_task
from tests.behaviour.helpers import register, start, task_of, units_logged_to, wait_status

THREE = {
    "name": "wb_three",
    "tasks": [
        {"name": "wb_step", "taskReferenceName": f"s{i}", "inputParameters": {"i": source}}
        for i, source in enumerate(("${workflow.input.i}", "${s0.output.i}", "${s1.output.i}"))
    ],
    "outputParameters": {"i": "${s2.output.i}"},
}


@worker_task("wb_step", concurrency=16)
async def step(i: int) -> dict[str, int]:
    await asyncio.sleep(0.005)
    return {"i": i + 1}


class _UpdateRequests(logging.Handler):
    """The request id of every unit of work that recorded a result."""

    def __init__(self) -> None:
        super().__init__()
        self.request_ids: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "unit", None) == "update":
            self.request_ids.append(str(getattr(record, "requestId", "")))


@pytest.fixture
def update_requests() -> Iterator[_UpdateRequests]:
    handler = _UpdateRequests()
    with units_logged_to(handler):
        yield handler


def test_results_go_together_and_burst_mode_still_ends(api, server, update_requests):
    register(api, THREE, [{"name": "wb_step", "retryCount": 0}])
    ids = [start(api, "wb_three", {"i": n * 10}) for n in range(40)]
    began = time.monotonic()
    WorkerRunner(server.url, [step], poll_timeout_ms=50).run(burst=True)
    assert time.monotonic() - began < 30
    for n, run_id in enumerate(ids):
        body = wait_status(api, run_id, timeout=5)
        assert body["status"] == "COMPLETED", body
        assert body["output"] == {"i": n * 10 + 3}
    recorded = update_requests.request_ids
    assert len(recorded) == 120
    # Units of one request share its id: fewer requests than results means they went together.
    assert len(set(recorded)) < 120


@worker_task("wb_maybe_big", concurrency=4)
async def maybe_big(size: int) -> dict[str, Any]:
    await asyncio.sleep(0.01)  # the four finish together, so their results share a request
    return {"blob": "x" * size}


def test_an_output_too_big_fails_its_task_and_the_others_are_recorded(store_choice):
    flow = {
        "name": "wb_one",
        "tasks": [
            {
                "name": "wb_maybe_big",
                "taskReferenceName": "s",
                "inputParameters": {"size": "${workflow.input.size}"},
            }
        ],
    }
    with (
        store_choice.server(max_task_output_bytes=1000) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        register(api, flow, [{"name": "wb_maybe_big", "retryCount": 0}])
        sizes = [10, 5000, 20, 30]
        ids = [start(api, "wb_one", {"size": size}) for size in sizes]
        WorkerRunner(server.url, [maybe_big], poll_timeout_ms=50).run(burst=True)
        ended = [wait_status(api, run_id, timeout=5) for run_id in ids]
    assert [body["status"] for body in ended] == ["COMPLETED", "FAILED", "COMPLETED", "COMPLETED"]
    refused = task_of(ended[1], "s")
    assert refused["status"] == "FAILED"
    assert "refused by the server" in refused["reasonForIncompletion"]
    assert "PODIUM_MAX_TASK_OUTPUT_BYTES" in refused["reasonForIncompletion"]
    assert task_of(ended[2], "s")["outputData"] == {"blob": "x" * 20}
