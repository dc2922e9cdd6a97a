"""``WorkerRunner`` against the real server (``PodiumTestServer`` on a loopback port)."""

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

from podium.testing import PodiumTestServer
from podium.worker import Task, TaskFailedError, TaskInProgress, WorkerRunner, worker_task
from podium.worker.runner import default_worker_id

POLL = "/api/tasks/poll/batch/"
BATCH = "/api/tasks/update-batch"
V2 = "/api/tasks/update-v2"
V1 = "/api/tasks"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[PodiumTestServer]:
    with PodiumTestServer() as server:
        yield server


@pytest.fixture
def server(shared_server: PodiumTestServer) -> Iterator[PodiumTestServer]:
    shared_server.reset()
    yield shared_server
    # Started again should a test have left it stopped.
    shared_server.start()


def runner(server: PodiumTestServer, *tasks: Any, **kwargs: Any) -> WorkerRunner:
    kwargs.setdefault("poll_timeout_ms", 50)
    return WorkerRunner(server.url, list(tasks), **kwargs)


def updates_to(server: PodiumTestServer, path: str) -> int:
    return sum(1 for r in server.requests if r.method == "POST" and r.path == path)


def routes(server: PodiumTestServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


def result_routes(server: PodiumTestServer) -> list[str]:
    """The route of each TaskResult posted, in order."""
    return [r.path for r in server.requests for _ in r.results]


@worker_task("rn_add")
def add(a: int, b: int = 10) -> int:
    return a + b


def test_burst_runs_queued_tasks_and_posts_their_results(server: PodiumTestServer) -> None:
    ids = [server.enqueue("rn_add", {"a": i}) for i in range(3)]
    worker = runner(server, add, worker_id="w-test")
    started = time.monotonic()
    worker.run(burst=True)
    assert time.monotonic() - started < 5
    by_task = {u["taskId"]: u for u in server.results()}
    for i, task_id in enumerate(ids):
        body = by_task[task_id]
        assert body["status"] == "COMPLETED"
        assert body["outputData"] == {"result": i + 10}
        assert body["workerId"] == "w-test"
        assert body["workflowInstanceId"] == server.task(task_id)["workflowInstanceId"]
        assert server.task(task_id)["status"] == "COMPLETED"
    # The poll asked for tasks as this worker.
    assert server.task(ids[0])["workerId"] == "w-test"


def test_the_next_task_handed_back_with_a_result_runs_at_once(server: PodiumTestServer) -> None:
    for i in range(3):
        server.enqueue("rn_add", {"a": i})
    runner(server, add, concurrency=1).run(burst=True)
    # One poll, then each update returns the next task; only the last poll finds nothing.
    assert routes(server) == [
        ("GET", POLL + "rn_add"),
        ("POST", BATCH),
        ("POST", BATCH),
        ("POST", BATCH),
        ("GET", POLL + "rn_add"),
    ]
    assert result_routes(server) == [BATCH, BATCH, BATCH]


def test_falls_back_to_update_v2_for_good_when_update_batch_is_missing(
    server: PodiumTestServer,
) -> None:
    server.fail_next("POST", BATCH, 404, times=None, code="E_NO_ROUTE")  # as Conductor has none
    for i in range(3):
        server.enqueue("rn_add", {"a": i})
    runner(server, add, concurrency=1).run(burst=True)
    assert routes(server) == [
        ("GET", POLL + "rn_add"),
        ("POST", BATCH),  # tried once, never again
        ("POST", V2),
        ("POST", V2),
        ("POST", V2),
        ("GET", POLL + "rn_add"),
    ]
    assert result_routes(server) == [BATCH, V2, V2, V2]


def test_falls_back_to_v1_for_good_when_update_v2_is_missing_too(
    server: PodiumTestServer,
) -> None:
    server.fail_next("POST", BATCH, 404, times=None, code="E_NO_ROUTE")
    server.fail_next("POST", V2, 404, times=None, code="E_NO_ROUTE")
    ids = [server.enqueue("rn_add", {"a": i}) for i in range(3)]
    runner(server, add).run(burst=True)
    assert updates_to(server, BATCH) == 1
    assert updates_to(server, V2) == 1
    assert updates_to(server, V1) == 3
    assert all(server.task(i)["status"] == "COMPLETED" for i in ids)


def test_handler_outcomes_are_posted_as_conductor_task_results(server: PodiumTestServer) -> None:
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
    ids = {server.enqueue("rn_fail", {"kind": k}): k for k in kinds}
    runner(server, fail).run(burst=True)
    got = {ids[u["taskId"]]: u for u in server.results()}
    assert got["retryable"]["status"] == "FAILED"
    assert got["retryable"]["reasonForIncompletion"] == "try later"
    assert got["terminal"]["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert got["crash"]["reasonForIncompletion"] == "ZeroDivisionError: division by zero"
    assert "ZeroDivisionError" in got["crash"]["logs"][0]["log"]
    assert got["wait"]["status"] == "IN_PROGRESS"
    assert got["wait"]["callbackAfterSeconds"] == 7
    assert got["wait"]["outputData"] == {"polled": True}


async def test_in_progress_task_comes_back_and_then_completes(server: PodiumTestServer) -> None:
    @worker_task("rn_slow")
    async def slow(task: Task) -> Any:
        if task.poll_count < 2:
            # Postponed: the server puts it back on its queue for a second.
            return TaskInProgress(callback_after_seconds=1)
        return {"polls": task.poll_count, "key": task.idempotency_key}

    task_id = server.enqueue("rn_slow", {}, reference_name="s")
    worker = runner(server, slow)
    running = asyncio.create_task(worker.run_async())
    try:
        for _ in range(300):
            if len(server.results()) == 2:
                break
            await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await asyncio.wait_for(running, 5)
    assert [u["status"] for u in server.results()] == ["IN_PROGRESS", "COMPLETED"]
    run_id = server.task(task_id)["workflowInstanceId"]
    assert server.task(task_id)["outputData"] == {"polls": 2, "key": f"{run_id}:s"}


def test_lost_lease_409_drops_the_result_without_retrying(
    server: PodiumTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    @worker_task("rn_stolen")
    def stolen(task: Task) -> dict[str, int]:
        # Meanwhile the server gave the task to another worker.
        server.take_lease(task.task_id, "someone-else")
        return {"x": 1}

    task_id = server.enqueue("rn_stolen")
    with caplog.at_level(logging.WARNING, logger="podium.worker"):
        runner(server, stolen).run(burst=True)
    assert updates_to(server, BATCH) == 1 and updates_to(server, V2) == updates_to(server, V1) == 0
    assert server.task(task_id)["status"] == "IN_PROGRESS"
    assert "E_LEASE_LOST" in caplog.text and "dropped" in caplog.text


def test_update_is_retried_on_503_until_it_succeeds(server: PodiumTestServer) -> None:
    server.fail_next("POST", BATCH, 503, times=2, code="E_STORE")
    task_id = server.enqueue("rn_add", {"a": 1})
    runner(server, add).run(burst=True)
    assert updates_to(server, BATCH) == 3
    assert server.task(task_id)["status"] == "COMPLETED"


def test_no_result_is_lost_while_the_server_restarts(server: PodiumTestServer) -> None:
    restart = threading.Timer(0.4, server.start)

    @worker_task("rn_restart")
    def outage() -> str:
        server.stop()  # the server goes down while the task runs...
        restart.start()  # ...and comes back a little later
        return "survived"

    task_id = server.enqueue("rn_restart")
    try:
        runner(server, outage).run(burst=True)
    finally:
        restart.join()
    assert server.task(task_id)["status"] == "COMPLETED"
    assert server.task(task_id)["outputData"] == {"result": "survived"}


async def test_polling_survives_a_server_that_is_down_at_first() -> None:
    server = PodiumTestServer()  # its port is chosen, but nothing listens there yet
    worker = runner(server, add)
    running = asyncio.create_task(worker.run_async())
    try:
        await asyncio.sleep(0.4)  # several refused polls, backing off
        assert not running.done()
        server.start()
        task_id = server.enqueue("rn_add", {"a": 5})
        for _ in range(200):
            if server.results():
                break
            await asyncio.sleep(0.02)
        assert server.task(task_id)["outputData"] == {"result": 15}
    finally:
        worker.stop()
        await asyncio.wait_for(running, 5)
        server.close()


def test_tasks_of_one_type_run_concurrently(server: PodiumTestServer) -> None:
    barrier = threading.Barrier(3, timeout=5)

    @worker_task("rn_parallel", concurrency=3)
    def parallel() -> None:
        barrier.wait()  # breaks (and fails the task) unless three run at once

    for _ in range(3):
        server.enqueue("rn_parallel")
    runner(server, parallel).run(burst=True)
    assert [u["status"] for u in server.results()] == ["COMPLETED"] * 3
    assert routes(server)[0] == ("GET", POLL + "rn_parallel")


async def test_stop_lets_the_in_flight_task_finish_and_post_its_result(
    server: PodiumTestServer,
) -> None:
    started = asyncio.Event()

    @worker_task("rn_long")
    async def long(n: int) -> int:
        started.set()
        await asyncio.sleep(0.2)
        return n

    first = server.enqueue("rn_long", {"n": 1})
    second = server.enqueue("rn_long", {"n": 2})
    worker = runner(server, long)
    running = asyncio.create_task(worker.run_async())
    await asyncio.wait_for(started.wait(), 5)
    worker.stop()
    await asyncio.wait_for(running, 5)
    assert server.task(first)["status"] == "COMPLETED"
    # While stopping, results go to v1 so that the server hands out no new work.
    assert result_routes(server) == [V1]
    assert server.task(second)["status"] == "SCHEDULED"


def test_sigint_stops_gracefully(server: PodiumTestServer) -> None:
    @worker_task("rn_interrupted")
    def interrupted() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # still working when the signal is handled
        return "finished anyway"

    task_id = server.enqueue("rn_interrupted")
    server.enqueue("rn_interrupted")
    runner(server, interrupted).run()  # not burst: only the signal ends it
    assert server.task(task_id)["outputData"] == {"result": "finished anyway"}
    assert len(server.results()) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_sigint_quits_at_once(server: PodiumTestServer) -> None:
    @worker_task("rn_stubborn")
    def stubborn() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        return "too late"

    task_id = server.enqueue("rn_stubborn")
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runner(server, stubborn).run()
    assert time.monotonic() - started < 0.5
    assert server.results() == []
    assert server.task(task_id)["status"] == "IN_PROGRESS"  # its lease will expire


def test_stop_from_another_thread(server: PodiumTestServer) -> None:
    worker = runner(server, add)
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


def test_results_that_finish_together_go_in_one_request(server: PodiumTestServer) -> None:
    ids = [server.enqueue("rn_together") for _ in range(8)]
    runner(server, finishing_together("rn_together", 8)).run(burst=True)
    assert updates_to(server, BATCH) == 1
    assert updates_to(server, V2) == updates_to(server, V1) == 0
    assert all(server.task(i)["outputData"] == {"id": i} for i in ids)


def test_a_dropped_result_does_not_hold_back_the_others(
    server: PodiumTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [server.enqueue("rn_some_stolen") for _ in range(3)]

    def outcome(task: Task) -> dict[str, str]:
        if task.task_id == ids[1]:
            # Meanwhile the server gave this one to another worker.
            server.take_lease(task.task_id, "someone-else")
        return {"id": task.task_id}

    with caplog.at_level(logging.WARNING, logger="podium.worker"):
        runner(server, finishing_together("rn_some_stolen", 3, outcome)).run(burst=True)
    assert updates_to(server, BATCH) == 1
    assert [server.task(i)["status"] for i in ids] == ["COMPLETED", "IN_PROGRESS", "COMPLETED"]
    assert f"result of task {ids[1]} dropped: E_LEASE_LOST" in caplog.text


def test_a_batch_refused_whole_is_posted_one_by_one(server: PodiumTestServer) -> None:
    server.fail_next("POST", BATCH, 400, code="E_INVALID")
    ids = [server.enqueue("rn_refused_together") for _ in range(3)]
    worker = runner(server, finishing_together("rn_refused_together", 3), add)
    worker.run(burst=True)
    assert updates_to(server, BATCH) == 1 and updates_to(server, V2) == 3
    assert all(server.task(i)["status"] == "COMPLETED" for i in ids)
    # The route exists, so the same runner keeps posting results together.
    server.enqueue("rn_add", {"a": 1})
    server.reset()
    worker.run(burst=True)
    assert updates_to(server, BATCH) == 1 and updates_to(server, V2) == 0


def test_each_result_in_a_batch_carries_its_own_traceparent(server: PodiumTestServer) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from podium.observability.context import TraceParent
    from podium.worker.tracing import WorkerTracing

    ids = [server.enqueue("rn_traced") for _ in range(3)]
    # Each task of its own run, each run its own trace.
    parents = {i: TraceParent.parse(server.task(i)["traceparent"]) for i in ids}
    assert len({p.trace_id for p in parents.values() if p is not None}) == 3
    tracing = WorkerTracing(TracerProvider())
    runner(server, finishing_together("rn_traced", 3), tracing=tracing).run(burst=True)
    assert updates_to(server, BATCH) == 1
    for update in server.results():
        sent = TraceParent.parse(update["traceparent"])
        parent = parents[update["taskId"]]
        assert sent is not None and parent is not None and sent.trace_id == parent.trace_id
