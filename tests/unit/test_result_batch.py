"""``ResultBatcher`` against a scripted transport: what goes in which request, and when."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from podium.worker.execution import TaskResult
from podium.worker.result_batch import BATCH_PATH, ResultBatcher
from podium.worker.task import Task
from podium.worker.transport import HttpResponse, TransportError


class ScriptedServer:
    """Answers each request when the test releases it; records what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.batch_status = 200
        self.failures: list[Exception] = []
        self.item_errors: dict[str, list[dict[str, Any]]] = {}
        """Per task id, the errors to answer its next attempts with, one each."""

    async def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> HttpResponse:
        body = orjson.loads(content)
        self.sent.append((path, body))
        await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        if path != BATCH_PATH:
            return HttpResponse(204, b"")
        if self.batch_status != 200:
            return HttpResponse(self.batch_status, b'{"code": "E_HTTP", "message": "nope"}')
        answers = [self._answer(item) for item in body]
        return HttpResponse(200, orjson.dumps(answers))

    def _answer(self, item: dict[str, Any]) -> dict[str, Any]:
        errors = self.item_errors.get(item["taskId"])
        if errors:
            return {"taskId": item["taskId"], "error": errors.pop(0)}
        return {"taskId": item["taskId"], "next": {"taskId": f"after-{item['taskId']}"}}

    def batches(self) -> list[list[str]]:
        return [[item["taskId"] for item in body] for path, body in self.sent if path == BATCH_PATH]


def result(n: int, output: dict[str, Any] | None = None) -> TaskResult:
    task = Task.from_json({"taskId": f"t{n}", "workflowInstanceId": "wf"})
    return TaskResult.build(task, "w", "COMPLETED", output or {"n": n})


@pytest.fixture
async def batcher():
    server = ScriptedServer()
    stopping = asyncio.Event()
    results = ResultBatcher(retry_seconds=5)
    results.open(server, stopping)  # type: ignore[arg-type]
    results.server, results.stopping = server, stopping  # type: ignore[attr-defined]
    yield results
    results.close()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_result_is_sent_at_once(batcher) -> None:
    posting = asyncio.create_task(batcher.post(result(1)))
    await settle()  # no timer: the request is out before any time passes
    assert batcher.server.batches() == [["t1"]]
    assert await posting == {"taskId": "after-t1"}


def error(status: int, code: str) -> dict[str, Any]:
    return {"status": status, "code": code, "message": f"{code} happened"}


async def test_each_answer_is_read_as_a_single_update_would_be(batcher, caplog) -> None:
    server = batcher.server
    server.item_errors = {
        "t1": [error(409, "E_LEASE_LOST")],
        "t2": [error(413, "E_PAYLOAD_TOO_LARGE")],
        "t3": [error(503, "E_STORE"), error(503, "E_STORE")],
        "t4": [error(400, "E_INVALID")],
        "t5": [error(404, "E_TASK_NOT_FOUND")],
    }
    outcomes = await asyncio.gather(*(batcher.post(result(n)) for n in range(6)))
    assert outcomes == [
        {"taskId": "after-t0"},
        None,  # lease lost: dropped
        {"taskId": "after-t2"},  # too big: failed instead, and that was recorded
        {"taskId": "after-t3"},  # the store was busy: tried again until it worked
        None,  # refused: dropped
        None,  # the task is gone: dropped
    ]
    assert server.batches() == [[f"t{n}" for n in range(6)], ["t2", "t3"], ["t3"]]
    resent = server.sent[1][1][0]
    assert resent["status"] == "FAILED" and resent["outputData"] == {}
    assert "refused by the server: E_PAYLOAD_TOO_LARGE happened" in resent["reasonForIncompletion"]
    assert "result of task t1 dropped: E_LEASE_LOST" in caplog.text
    assert "server refused result of task t4: HTTP 400 E_INVALID" in caplog.text


async def test_two_requests_go_at_once_and_what_finishes_meanwhile_goes_in_the_next(
    batcher,
) -> None:
    server = batcher.server
    server.gate.clear()
    first = asyncio.create_task(batcher.post(result(1)))
    await settle()
    second = asyncio.create_task(batcher.post(result(2)))
    await settle()
    assert server.batches() == [["t1"], ["t2"]]  # a second request does not wait for the first
    later = [asyncio.create_task(batcher.post(result(n))) for n in (3, 4, 5)]
    await settle()
    assert server.batches() == [["t1"], ["t2"]]  # held while two requests are in flight
    server.gate.set()
    await asyncio.gather(first, second, *later)
    assert server.batches() == [["t1"], ["t2"], ["t3", "t4", "t5"]]


async def test_a_request_carries_at_most_100_results(batcher) -> None:
    server = batcher.server
    server.gate.clear()
    posting = [asyncio.create_task(batcher.post(result(n))) for n in range(250)]
    await settle()
    server.gate.set()
    await asyncio.gather(*posting)
    assert [len(b) for b in server.batches()] == [100, 100, 50]
    assert [t for b in server.batches() for t in b] == [f"t{n}" for n in range(250)]


async def test_large_results_are_split_across_requests(batcher) -> None:
    server = batcher.server
    server.gate.clear()
    sizes = [900_000, 900_000, 2_500_000, 10]
    posting = [
        asyncio.create_task(batcher.post(result(n, {"blob": "x" * size})))
        for n, size in enumerate(sizes)
    ]
    await settle()
    server.gate.set()
    await asyncio.gather(*posting)
    # About 2 MiB at most, except a result bigger than that, which goes by itself.
    assert server.batches() == [["t0", "t1"], ["t2"], ["t3"]]


async def test_a_failed_request_is_sent_again_with_what_finished_meanwhile(batcher) -> None:
    server = batcher.server
    server.failures.append(TransportError("connection refused"))
    first = asyncio.create_task(batcher.post(result(1)))
    await settle()
    second = asyncio.create_task(batcher.post(result(2)))
    await settle()
    assert server.batches() == [["t1"]]  # no second request skips the first one's backoff
    await asyncio.gather(first, second)
    assert server.batches() == [["t1"], ["t1", "t2"]]


async def test_without_the_route_results_go_one_by_one_for_good(batcher) -> None:
    server = batcher.server
    server.batch_status = 404
    server.gate.clear()
    posting = [asyncio.create_task(batcher.post(result(n))) for n in (1, 2)]
    await settle()
    server.gate.set()
    await asyncio.gather(*posting)
    await batcher.post(result(3))
    assert server.batches() == [["t1", "t2"]]
    assert [p for p, _ in server.sent[1:]] == ["/api/tasks/update-v2"] * 3
    assert sorted(body["taskId"] for _, body in server.sent[1:]) == ["t1", "t2", "t3"]


async def test_results_go_to_v1_once_the_runner_is_stopping(batcher) -> None:
    server = batcher.server
    server.gate.clear()
    in_flight = []
    for n in (1, 2):
        in_flight.append(asyncio.create_task(batcher.post(result(n))))
        await settle()
    waiting = asyncio.create_task(batcher.post(result(3)))
    await settle()
    batcher.stopping.set()
    server.gate.set()
    await asyncio.gather(*in_flight, waiting)
    # The one waiting for the next request goes to v1, which hands out no new work.
    assert server.batches() == [["t1"], ["t2"]]
    assert server.sent[2] == ("/api/tasks", orjson.loads(result(3).content))
