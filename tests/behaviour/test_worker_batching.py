"""The Python worker SDK against a real server: results posted together with update-batch."""

from __future__ import annotations

import asyncio
import logging
import threading
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


GATED = {
    "name": "wb_gated",
    "tasks": [
        {"name": "wb_gate", "taskReferenceName": "s0", "inputParameters": {"i": 0}},
        {"name": "wb_gate", "taskReferenceName": "s1", "inputParameters": {"i": "${s0.output.i}"}},
    ],
    "outputParameters": {"i": "${s1.output.i}"},
}
_GATES = [threading.Event(), threading.Event()]


@worker_task("wb_gate", concurrency=1)
def gate(i: int) -> dict[str, int]:
    assert _GATES[i].wait(20)
    return {"i": i + 1}


def _in_progress(api, run_id, ref):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tasks = api.get(f"/api/workflow/{run_id}").json()["tasks"]
        live = [t for t in tasks if t["referenceTaskName"] == ref]
        if live and live[0]["status"] == "IN_PROGRESS":
            return live[0]
        time.sleep(0.05)
    raise AssertionError(f"{ref} of {run_id} was not handed out")


@pytest.mark.parametrize("together", [True, False], ids=["update-batch", "update-v2"])
def test_the_sdks_leases_take_only_results_that_carry_their_token(api, server, together):
    # The SDK asks for leases that only their token completes, and sends it: with the task
    # polled and with the next one handed back with a result.
    for event in _GATES:
        event.clear()
    register(api, GATED, [{"name": "wb_gate", "retryCount": 0}])
    run_id = start(api, "wb_gated")
    runner = WorkerRunner(server.url, [gate], worker_id="sdk-worker", poll_timeout_ms=100)
    runner._results.use_batch = together
    thread = threading.Thread(target=runner.run, kwargs={"burst": True})
    thread.start()
    try:
        for i, ref in enumerate(("s0", "s1")):
            live = _in_progress(api, run_id, ref)
            assert live["workerId"] == "sdk-worker"
            assert "leaseToken" not in live
            forged = {
                "taskId": live["taskId"],
                "workflowInstanceId": run_id,
                "workerId": "sdk-worker",
                "status": "COMPLETED",
                "outputData": {"i": 99},
            }
            refused = api.post("/api/tasks", json=forged)
            assert refused.status_code == 409, refused.text
            assert refused.json()["code"] == "E_LEASE_LOST"
            _GATES[i].set()
        body = wait_status(api, run_id, timeout=10)
        assert body["status"] == "COMPLETED", body
        assert body["output"] == {"i": 2}
    finally:
        for event in _GATES:
            event.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
