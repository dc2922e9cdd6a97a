"""One run must not starve the others: a slow jq query is killed at its time limit while the
server keeps answering, a run is capped in tasks, and a long chain of system steps is decided
in slices that let other runs' writes in between."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from podium.server import timers
from tests.behaviour.helpers import register, run, start, task_of, wait_status

_JQ_LIMIT_MS = 1500


@pytest.fixture
def isolated(store_choice) -> Iterator[httpx.Client]:
    settings = {"jq_time_limit_ms": _JQ_LIMIT_MS, "sweep_interval_s": 0.2}
    with (
        store_choice.server(**settings) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def _jq_flow(name: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [
            {
                "name": "shape",
                "taskReferenceName": "shape",
                "type": "JSON_JQ_TRANSFORM",
                "inputParameters": {"queryExpression": query},
            }
        ],
    }


def test_a_slow_jq_query_is_killed_at_its_limit_while_the_server_answers(isolated):
    register(isolated, _jq_flow("slow_jq", "last(range(1e9))"))
    register(isolated, _jq_flow("quick_jq", "{answer: 42}"))
    began = time.monotonic()
    slow_id = start(isolated, "slow_jq")
    # The query is too slow to run inside the unit of work: it runs outside it, meanwhile.
    assert time.monotonic() - began < 1.0
    health_ms, start_ms = [], []
    while time.monotonic() - began < _JQ_LIMIT_MS / 1000 - 0.3:
        asked = time.monotonic()
        assert isolated.get("/api/health").status_code == 200
        health_ms.append((time.monotonic() - asked) * 1000)
        asked = time.monotonic()
        quick = start(isolated, "quick_jq")
        start_ms.append((time.monotonic() - asked) * 1000)
        time.sleep(0.05)
    assert len(health_ms) >= 5 and max(health_ms) < 250, health_ms
    assert max(start_ms) < 500, start_ms
    body = wait_status(isolated, slow_id)
    assert body["status"] == "FAILED"
    shape = task_of(body, "shape")
    assert shape["status"] == "FAILED"
    assert f"longer than {_JQ_LIMIT_MS} ms" in shape["reasonForIncompletion"]
    assert "PODIUM_JQ_TIME_LIMIT_MS" in shape["reasonForIncompletion"]
    # Quick queries ran inside their start; the killed process is replaced for the next one.
    assert task_of(run(isolated, quick), "shape")["outputData"]["result"] == {"answer": 42}
    quick = start(isolated, "quick_jq")
    assert run(isolated, quick)["status"] == "COMPLETED"


def test_a_query_too_slow_for_a_decision_completes_outside_it(isolated):
    register(isolated, _jq_flow("medium_jq", "[range(1e6)] | length"))
    body = wait_status(isolated, start(isolated, "medium_jq"))
    assert body["status"] == "COMPLETED", body.get("reasonForIncompletion")
    shape = task_of(body, "shape")
    assert shape["outputData"] == {"result": 1_000_000, "resultList": [1_000_000]}
    # The server's own queue is not one a worker may poll.
    polled = isolated.get("/api/tasks/poll/_podium.jq", params={"workerid": "w"})
    assert polled.status_code == 400


def _chain(name: str, steps: int) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [
            {
                "name": "set",
                "taskReferenceName": f"set{n}",
                "type": "SET_VARIABLE",
                "inputParameters": {"last": n},
            }
            for n in range(steps)
        ],
    }


@pytest.fixture
def capped(store_choice) -> Iterator[httpx.Client]:
    settings = {"max_tasks_per_run": 30, "max_loop_iterations": 1000, "sweep_interval_s": 0.2}
    with (
        store_choice.server(**settings) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def test_a_run_past_the_task_limit_fails_naming_the_setting(capped):
    register(capped, _chain("fits", 30))
    register(capped, _chain("too_long", 31))
    assert wait_status(capped, start(capped, "fits"))["status"] == "COMPLETED"
    body = wait_status(capped, start(capped, "too_long"))
    assert body["status"] == "FAILED"
    assert len(body["tasks"]) == 31
    assert "PODIUM_MAX_TASKS_PER_RUN" in body["reasonForIncompletion"]
    last = task_of(body, "set30")
    assert last["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "the limit is 30" in last["reasonForIncompletion"]
    assert task_of(body, "set29")["status"] == "COMPLETED"


def test_an_endless_loop_stops_at_the_task_limit(capped):
    register(
        capped,
        {
            "name": "forever",
            "tasks": [
                {
                    "name": "loop",
                    "taskReferenceName": "loop",
                    "type": "DO_WHILE",
                    "loopCondition": "true",
                    "loopOver": [
                        {"name": "noop", "taskReferenceName": "step", "type": "NOOP"},
                        {"name": "noop", "taskReferenceName": "again", "type": "NOOP"},
                    ],
                }
            ],
        },
    )
    body = wait_status(capped, start(capped, "forever"))
    assert body["status"] == "FAILED"
    assert "PODIUM_MAX_TASKS_PER_RUN" in body["reasonForIncompletion"]
    assert len(body["tasks"]) == 31


@pytest.fixture
def budgeted(store_choice) -> Iterator[httpx.Client]:
    settings = {"decision_step_budget": 200, "sweep_interval_s": 0.2}
    with (
        store_choice.server(**settings) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client


def test_a_long_chain_of_system_steps_lets_other_runs_start_meanwhile(budgeted):
    steps = 5_000
    register(budgeted, _chain("long_chain", steps))
    register(budgeted, _chain("short", 1))
    began = time.monotonic()
    long_id = start(budgeted, "long_chain")
    start_ms = (time.monotonic() - began) * 1000
    latencies = []
    while True:
        asked = time.monotonic()
        start(budgeted, "short")
        latencies.append((time.monotonic() - asked) * 1000)
        body = budgeted.get(f"/api/workflow/{long_id}", params={"includeTasks": False}).json()
        if body["status"] != "RUNNING" or time.monotonic() - began > 120:
            break
    body = wait_status(budgeted, long_id, timeout=120)
    assert body["status"] == "COMPLETED", body.get("reasonForIncompletion")
    assert len(body["tasks"]) == steps
    assert body["variables"]["last"] == steps - 1
    # The run was decided in slices: starting it, and every start made meanwhile, was quick.
    latencies.sort()
    assert len(latencies) >= 3, latencies
    assert start_ms < 2500, start_ms  # a loaded machine took 1.4 s
    # As beside an endless loop below: room for a loaded machine, where a start may queue
    # behind a slice or two of the chain.
    assert latencies[len(latencies) // 2] < 500, latencies


@pytest.fixture
def looping(store_choice) -> Iterator[httpx.Client]:
    settings = {"max_loop_iterations": 2_000, "sweep_interval_s": 0.2}
    with (
        store_choice.server(**settings) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client


def test_an_endless_loop_of_system_tasks_lets_other_runs_start_and_stops_at_its_cap(looping):
    register(
        looping,
        {
            "name": "spin",
            "tasks": [
                {
                    "name": "loop",
                    "taskReferenceName": "loop",
                    "type": "DO_WHILE",
                    "loopCondition": "true",
                    "loopOver": [
                        {
                            "name": "set",
                            "taskReferenceName": "count",
                            "type": "SET_VARIABLE",
                            "inputParameters": {"seen": "${loop.output.iteration}"},
                        }
                    ],
                }
            ],
        },
    )
    register(looping, _chain("short", 1))
    began = time.monotonic()
    spin_id = start(looping, "spin")
    latencies = []
    while time.monotonic() - began < 120:
        asked = time.monotonic()
        start(looping, "short")
        latencies.append((time.monotonic() - asked) * 1000)
        body = looping.get(f"/api/workflow/{spin_id}", params={"includeTasks": False}).json()
        if body["status"] != "RUNNING":
            break
    body = wait_status(looping, spin_id, timeout=120)
    assert body["status"] == "FAILED"
    assert "PODIUM_MAX_LOOP_ITERATIONS" in body["reasonForIncompletion"]
    assert "iteration 2001" in body["reasonForIncompletion"]
    latencies.sort()
    assert len(latencies) >= 3, latencies
    # Starts must interleave with the loop's decisions, not wait for the loop to end (which
    # takes seconds). The bound leaves room for a loaded machine: each of the loop's steps
    # holds the writer for a while, and a start may queue behind one or two of them.
    assert latencies[len(latencies) // 2] < 500, latencies


def test_a_sweep_past_its_firing_budget_leaves_the_other_timers_to_the_next(
    store_choice, monkeypatch
):
    monkeypatch.setattr(timers, "FIRING_BUDGET_S", 0.0)  # each sweep fires one timer
    settings = {"decision_step_budget": 50, "sweep_interval_s": 0.2}
    with (
        store_choice.server(**settings) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        register(client, _chain("chain", 300))
        run_ids = [start(client, "chain") for _ in range(3)]
        for run_id in run_ids:
            body = wait_status(client, run_id, timeout=60)
            assert body["status"] == "COMPLETED"
            assert body["variables"]["last"] == 299


def test_many_jq_steps_in_one_decision_are_shared_with_the_executor(isolated):
    steps = [
        {
            "name": "shape",
            "taskReferenceName": f"shape{n}",
            "type": "JSON_JQ_TRANSFORM",
            "inputParameters": {"queryExpression": ".n + 1", "n": n},
        }
        for n in range(30)
    ]
    register(isolated, {"name": "many_jq", "tasks": steps})
    body = wait_status(isolated, start(isolated, "many_jq"))
    assert body["status"] == "COMPLETED", body.get("reasonForIncompletion")
    assert [task["outputData"]["result"] for task in body["tasks"]] == list(range(1, 31))
