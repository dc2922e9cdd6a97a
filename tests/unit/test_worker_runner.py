"""``WorkerRunner`` against a real HTTP server (``FakeConductor`` on a loopback port)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from podium.worker import Task, TaskFailedError, TaskInProgress, WorkerRunner, worker_task
from podium.worker.runner import default_worker_id
from podium.worker.testing import FakeConductor

POLL = "/api/tasks/poll/batch/"
BATCH = "/api/tasks/update-batch"
V2 = "/api/tasks/update-v2"
V1 = "/api/tasks"


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeConductor]:
    with FakeConductor() as server:
        yield server


@pytest.fixture
def fake(shared_fake: FakeConductor) -> FakeConductor:
    shared_fake.reset()
    return shared_fake


def runner(fake: FakeConductor, *tasks: Any, **kwargs: Any) -> WorkerRunner:
    kwargs.setdefault("poll_timeout_ms", 50)
    return WorkerRunner(fake.url, list(tasks), **kwargs)


def updates_to(fake: FakeConductor, path: str) -> int:
    return sum(1 for method, p in fake.requests if method == "POST" and p == path)


@worker_task("rn_add")
def add(a: int, b: int = 10) -> int:
    return a + b


def test_burst_runs_queued_tasks_and_posts_their_results(fake: FakeConductor) -> None:
    ids = [fake.enqueue("rn_add", {"a": i}) for i in range(3)]
    worker = runner(fake, add, worker_id="w-test")
    started = time.monotonic()
    worker.run(burst=True)
    assert time.monotonic() - started < 5
    by_task = {u["taskId"]: u for u in fake.updates}
    for i, task_id in enumerate(ids):
        body = by_task[task_id]
        assert body["status"] == "COMPLETED"
        assert body["outputData"] == {"result": i + 10}
        assert body["workerId"] == "w-test"
        assert body["workflowInstanceId"] == fake.task(task_id)["workflowInstanceId"]
        assert fake.task(task_id)["status"] == "COMPLETED"
    # The poll asked for tasks as this worker.
    assert fake.task(ids[0])["workerId"] == "w-test"


def test_the_next_task_handed_back_with_a_result_runs_at_once(fake: FakeConductor) -> None:
    for i in range(3):
        fake.enqueue("rn_add", {"a": i})
    runner(fake, add, concurrency=1).run(burst=True)
    # One poll, then each update returns the next task; only the last poll finds nothing.
    assert fake.requests == [
        ("GET", POLL + "rn_add"),
        ("POST", BATCH),
        ("POST", BATCH),
        ("POST", BATCH),
        ("GET", POLL + "rn_add"),
    ]
    assert [u["_endpoint"] for u in fake.updates] == ["batch", "batch", "batch"]


def test_falls_back_to_update_v2_for_good_when_update_batch_is_missing() -> None:
    with FakeConductor(update_batch=False) as fake:
        for i in range(3):
            fake.enqueue("rn_add", {"a": i})
        runner(fake, add, concurrency=1).run(burst=True)
        assert fake.requests == [
            ("GET", POLL + "rn_add"),
            ("POST", BATCH),  # tried once, never again
            ("POST", V2),
            ("POST", V2),
            ("POST", V2),
            ("GET", POLL + "rn_add"),
        ]
        assert [u["_endpoint"] for u in fake.updates] == ["v2", "v2", "v2"]


def test_falls_back_to_v1_for_good_when_update_v2_is_missing_too() -> None:
    with FakeConductor(update_batch=False, update_v2=False) as fake:
        ids = [fake.enqueue("rn_add", {"a": i}) for i in range(3)]
        runner(fake, add).run(burst=True)
        assert updates_to(fake, BATCH) == 1
        assert updates_to(fake, V2) == 1
        assert updates_to(fake, V1) == 3
        assert all(fake.task(i)["status"] == "COMPLETED" for i in ids)


def test_handler_outcomes_are_posted_as_conductor_task_results(fake: FakeConductor) -> None:
    @worker_task("rn_fail")
    def fail(kind: str) -> Any:
        if kind == "retryable":
            raise TaskFailedError("try later")
        if kind == "terminal":
            raise TaskFailedError("never", non_retryable=True)
        if kind == "crash":
            raise ZeroDivisionError("division by zero")
        return TaskInProgress(callback_after_seconds=7, output={"polled": True})

    kinds = ["retryable", "terminal", "crash", "wait"]
    ids = {fake.enqueue("rn_fail", {"kind": k}): k for k in kinds}
    runner(fake, fail).run(burst=True)
    got = {ids[u["taskId"]]: u for u in fake.updates}
    assert got["retryable"]["status"] == "FAILED"
    assert got["retryable"]["reasonForIncompletion"] == "try later"
    assert got["terminal"]["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert got["crash"]["reasonForIncompletion"] == "ZeroDivisionError: division by zero"
    assert "ZeroDivisionError" in got["crash"]["logs"][0]["log"]
    assert got["wait"]["status"] == "IN_PROGRESS"
    assert got["wait"]["callbackAfterSeconds"] == 7
    assert got["wait"]["outputData"] == {"polled": True}


def test_in_progress_task_comes_back_and_then_completes(fake: FakeConductor) -> None:
    @worker_task("rn_slow")
    async def slow(task: Task) -> Any:
        if task.poll_count < 2:
            return TaskInProgress(callback_after_seconds=0)
        return {"polls": task.poll_count, "key": task.idempotency_key}

    task_id = fake.enqueue("rn_slow", {}, workflowInstanceId="wf-9", referenceTaskName="s")
    runner(fake, slow).run(burst=True)
    assert [u["status"] for u in fake.updates] == ["IN_PROGRESS", "COMPLETED"]
    assert fake.task(task_id)["outputData"] == {"polls": 2, "key": "wf-9:s"}


def test_lost_lease_409_drops_the_result_without_retrying(
    fake: FakeConductor, caplog: pytest.LogCaptureFixture
) -> None:
    @worker_task("rn_stolen")
    def stolen(task: Task) -> dict[str, int]:
        # Meanwhile the server gave the task to another worker.
        fake.engine.tasks[task.task_id]["workerId"] = "someone-else"
        return {"x": 1}

    task_id = fake.enqueue("rn_stolen")
    with caplog.at_level(logging.WARNING, logger="podium.worker"):
        runner(fake, stolen).run(burst=True)
    assert updates_to(fake, BATCH) == 1 and updates_to(fake, V2) == updates_to(fake, V1) == 0
    assert fake.task(task_id)["status"] == "IN_PROGRESS"
    assert "E_LEASE_LOST" in caplog.text and "dropped" in caplog.text


def test_update_is_retried_on_503_until_it_succeeds(fake: FakeConductor) -> None:
    fake.fail_next("POST", BATCH, 503, times=2, code="E_STORE")
    task_id = fake.enqueue("rn_add", {"a": 1})
    runner(fake, add).run(burst=True)
    assert updates_to(fake, BATCH) == 3
    assert fake.task(task_id)["status"] == "COMPLETED"


def test_no_result_is_lost_while_the_server_restarts(fake: FakeConductor) -> None:
    restart = threading.Timer(0.4, fake.start)

    @worker_task("rn_restart")
    def outage() -> str:
        fake.stop()  # the server goes down while the task runs...
        restart.start()  # ...and comes back a little later
        return "survived"

    task_id = fake.enqueue("rn_restart")
    try:
        runner(fake, outage).run(burst=True)
    finally:
        restart.join()
    assert fake.task(task_id)["status"] == "COMPLETED"
    assert fake.task(task_id)["outputData"] == {"result": "survived"}


async def test_polling_survives_a_server_that_is_down_at_first() -> None:
    fake = FakeConductor().start()
    fake.stop()  # keep its port, but nothing listens there yet
    worker = runner(fake, add)
    running = asyncio.create_task(worker.run_async())
    try:
        await asyncio.sleep(0.4)  # several refused polls, backing off
        assert not running.done()
        fake.start()
        task_id = fake.enqueue("rn_add", {"a": 5})
        for _ in range(200):
            if fake.updates:
                break
            await asyncio.sleep(0.02)
        assert fake.task(task_id)["outputData"] == {"result": 15}
    finally:
        worker.stop()
        await asyncio.wait_for(running, 5)
        fake.stop()


def test_tasks_of_one_type_run_concurrently(fake: FakeConductor) -> None:
    barrier = threading.Barrier(3, timeout=5)

    @worker_task("rn_parallel", concurrency=3)
    def parallel() -> None:
        barrier.wait()  # breaks (and fails the task) unless three run at once

    for _ in range(3):
        fake.enqueue("rn_parallel")
    runner(fake, parallel).run(burst=True)
    assert [u["status"] for u in fake.updates] == ["COMPLETED"] * 3
    assert fake.requests[0] == ("GET", POLL + "rn_parallel")


async def test_stop_lets_the_in_flight_task_finish_and_post_its_result(
    fake: FakeConductor,
) -> None:
    started = asyncio.Event()

    @worker_task("rn_long")
    async def long(n: int) -> int:
        started.set()
        await asyncio.sleep(0.2)
        return n

    first = fake.enqueue("rn_long", {"n": 1})
    second = fake.enqueue("rn_long", {"n": 2})
    worker = runner(fake, long)
    running = asyncio.create_task(worker.run_async())
    await asyncio.wait_for(started.wait(), 5)
    worker.stop()
    await asyncio.wait_for(running, 5)
    assert fake.task(first)["status"] == "COMPLETED"
    # While stopping, results go to v1 so that the server hands out no new work.
    assert [u["_endpoint"] for u in fake.updates] == ["v1"]
    assert fake.task(second)["status"] == "SCHEDULED"


def test_sigint_stops_gracefully(fake: FakeConductor) -> None:
    @worker_task("rn_interrupted")
    def interrupted() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # still working when the signal is handled
        return "finished anyway"

    task_id = fake.enqueue("rn_interrupted")
    fake.enqueue("rn_interrupted")
    runner(fake, interrupted).run()  # not burst: only the signal ends it
    assert fake.task(task_id)["outputData"] == {"result": "finished anyway"}
    assert len(fake.updates) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_sigint_quits_at_once(fake: FakeConductor) -> None:
    @worker_task("rn_stubborn")
    def stubborn() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        return "too late"

    task_id = fake.enqueue("rn_stubborn")
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runner(fake, stubborn).run()
    assert time.monotonic() - started < 0.5
    assert fake.updates == []
    assert fake.task(task_id)["status"] == "IN_PROGRESS"  # its lease will expire


def test_stop_from_another_thread(fake: FakeConductor) -> None:
    worker = runner(fake, add)
    thread = threading.Thread(target=worker.run)
    thread.start()
    time.sleep(0.2)
    worker.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_runner_validates_its_handlers() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WorkerRunner("http://127.0.0.1:1", [])
    with pytest.raises(ValueError, match="two handlers"):
        WorkerRunner("http://127.0.0.1:1", [add, add])


def test_default_worker_ids_are_unique_per_runner() -> None:
    assert default_worker_id() != default_worker_id()
    assert f"-{os.getpid()}-" in default_worker_id()
    assert WorkerRunner("http://h:1/api/", [add]).server_url == "http://h:1"


def finishing_together(name: str, count: int, outcome: Any = None) -> Any:
    """A handler whose ``count`` tasks all wait for each other, then finish at once."""
    arrived: list[str] = []
    together = asyncio.Event()

    @worker_task(name, concurrency=count)
    async def handler(task: Task) -> Any:
        arrived.append(task.task_id)
        if len(arrived) == count:
            together.set()
        await asyncio.wait_for(together.wait(), 5)
        return outcome(task) if outcome else {"id": task.task_id}

    return handler


def test_results_that_finish_together_go_in_one_request(fake: FakeConductor) -> None:
    ids = [fake.enqueue("rn_together") for _ in range(8)]
    runner(fake, finishing_together("rn_together", 8)).run(burst=True)
    assert updates_to(fake, BATCH) == 1
    assert updates_to(fake, V2) == updates_to(fake, V1) == 0
    assert all(fake.task(i)["outputData"] == {"id": i} for i in ids)


def test_a_dropped_result_does_not_hold_back_the_others(
    fake: FakeConductor, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [fake.enqueue("rn_some_stolen") for _ in range(3)]

    def outcome(task: Task) -> dict[str, str]:
        if task.task_id == ids[1]:
            # Meanwhile the server gave this one to another worker.
            fake.engine.tasks[task.task_id]["workerId"] = "someone-else"
        return {"id": task.task_id}

    with caplog.at_level(logging.WARNING, logger="podium.worker"):
        runner(fake, finishing_together("rn_some_stolen", 3, outcome)).run(burst=True)
    assert updates_to(fake, BATCH) == 1
    assert [fake.task(i)["status"] for i in ids] == ["COMPLETED", "IN_PROGRESS", "COMPLETED"]
    assert f"result of task {ids[1]} dropped: E_LEASE_LOST" in caplog.text


def test_a_batch_refused_whole_is_posted_one_by_one(fake: FakeConductor) -> None:
    fake.fail_next("POST", BATCH, 400, code="E_INVALID")
    ids = [fake.enqueue("rn_refused_together") for _ in range(3)]
    worker = runner(fake, finishing_together("rn_refused_together", 3), add)
    worker.run(burst=True)
    assert updates_to(fake, BATCH) == 1 and updates_to(fake, V2) == 3
    assert all(fake.task(i)["status"] == "COMPLETED" for i in ids)
    # The route exists, so the same runner keeps posting results together.
    fake.enqueue("rn_add", {"a": 1})
    fake.requests.clear()
    worker.run(burst=True)
    assert updates_to(fake, BATCH) == 1 and updates_to(fake, V2) == 0


def test_each_result_in_a_batch_carries_its_own_traceparent(fake: FakeConductor) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from podium.observability.context import TraceParent
    from podium.worker.tracing import WorkerTracing

    parents = {
        fake.enqueue("rn_traced", traceparent=f"00-{n:032x}-{n:016x}-01"): f"{n:032x}"
        for n in (0xA1, 0xB2, 0xC3)
    }
    tracing = WorkerTracing(TracerProvider())
    runner(fake, finishing_together("rn_traced", 3), tracing=tracing).run(burst=True)
    assert updates_to(fake, BATCH) == 1
    for update in fake.updates:
        sent = TraceParent.parse(update["traceparent"])
        assert sent is not None and sent.trace_id == parents[update["taskId"]]
