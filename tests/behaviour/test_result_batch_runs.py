"""``update-batch`` records the results of one run in one unit: the run is written once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from podium.server.held_run import HeldRun
from podium.store.postgres_tx import PostgresTx
from podium.store.sqlite_tx import SQLiteTx
from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status
from tests.behaviour.test_result_batch import BATCH, result


def fan(name: str, branches: int) -> dict[str, Any]:
    refs = [f"b{i}" for i in range(branches)]
    return {
        "name": name,
        "version": 1,
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN",
                "forkTasks": [[{"name": "work", "taskReferenceName": ref}] for ref in refs],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": refs},
        ],
    }


@pytest.fixture
def run_writes(monkeypatch: pytest.MonkeyPatch, store_choice: Any) -> Counter[str]:
    """How many times each run's row was written (the server runs in this process); ask for
    it before ``api``: SQLite's transaction keeps its writer from the server's start."""
    writes: Counter[str] = Counter()
    # SQLite's update_run only notes the run for the end of the transaction; _write_run writes.
    cls: Any = PostgresTx if store_choice.backend == "postgres" else SQLiteTx
    name = "update_run" if store_choice.backend == "postgres" else "_write_run"
    original = getattr(cls, name)

    def counting(self: Any, state: Any) -> None:
        writes[state.run_id] += 1
        original(self, state)

    monkeypatch.setattr(cls, name, counting)
    return writes


def test_a_fan_outs_results_in_one_batch_write_the_run_once(run_writes, api):
    register(api, fan("fan50", 50), [{"name": "work", "retryCount": 0}])
    run_id = start(api, "fan50")
    tasks = poll(api, "work", count=50)
    assert len(tasks) == 50
    run_writes.clear()
    response = api.post(BATCH, json=[result(t, {"ref": t["referenceTaskName"]}) for t in tasks])
    assert response.status_code == 200, response.text
    assert response.json() == [{"taskId": t["taskId"], "next": None} for t in tasks]
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    join = task_of(body, "join")
    assert join["status"] == "COMPLETED"
    assert join["outputData"] == {f"b{i}": {"ref": f"b{i}"} for i in range(50)}
    # Fifty results, one decision each, and the run's row written once for all of them.
    assert run_writes[run_id] == 1


def test_two_runs_and_refused_results_are_answered_each_as_alone(run_writes, api):
    register(api, fan("fan3", 3), [{"name": "work", "retryCount": 0}])
    first, second = start(api, "fan3"), start(api, "fan3")
    tasks = poll(api, "work", count=6)
    of = {(t["workflowInstanceId"], t["referenceTaskName"]): t for t in tasks}  # by run and branch
    a = [of[(first, f"b{i}")] for i in range(3)]
    b = [of[(second, f"b{i}")] for i in range(3)]
    items = [
        result(a[0], {"n": 0}),
        result(b[0], {"n": 0}),
        result(a[1], status="SCHEDULED"),
        result({"taskId": "no-such-task", "workflowInstanceId": first}),
        result(b[1], {"n": 1}),
        result(a[0], {"again": True}),  # its run's own unit has just recorded it
        result(a[2], leaseToken="not-the-lease"),
        result(b[2], {"n": 2}),
    ]
    run_writes.clear()
    response = api.post(BATCH, json=items)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert [x["taskId"] for x in answers] == [i["taskId"] for i in items]
    for i in (0, 1, 4, 7):
        assert answers[i] == {"taskId": items[i]["taskId"], "next": None}
    errors = {i: answers[i]["error"] for i in (2, 3, 5, 6)}
    assert {i: (e["status"], e["code"]) for i, e in errors.items()} == {
        2: (400, "E_INVALID"),
        3: (404, "E_TASK_NOT_FOUND"),
        5: (409, "E_TASK_FINISHED"),
        6: (409, "E_LEASE_LOST"),
    }
    assert run_writes[first] == 1 and run_writes[second] == 1
    # The refused results changed nothing, and update-v2 refuses each of them the same way.
    done = wait_status(api, second)
    assert [task_of(done, f"b{i}")["outputData"] for i in range(3)] == [{"n": n} for n in range(3)]
    body = run(api, first)
    assert body["status"] == "RUNNING"
    assert task_of(body, "b0")["outputData"] == {"n": 0}
    for ref in ("b1", "b2"):
        assert task_of(body, ref)["status"] == "IN_PROGRESS"
    for i, error in errors.items():
        alone = api.post("/api/tasks/update-v2", json=items[i])
        assert (alone.status_code, alone.json()) == (error["status"], error)
    for task in a[1:]:
        assert complete(api, task).status_code == 200
    assert wait_status(api, first)["status"] == "COMPLETED"


def test_progress_and_results_of_one_run_go_in_order(run_writes, api):
    register(api, fan("fan3", 3), [{"name": "work", "retryCount": 0}])
    run_id = start(api, "fan3")
    tasks = sorted(poll(api, "work", count=3), key=lambda t: t["referenceTaskName"])
    items = [
        result(tasks[0], {"step": 1}, status="IN_PROGRESS"),
        result(tasks[1], {"n": 1}),
        result(tasks[0], {"step": 2}, status="IN_PROGRESS", callbackAfterSeconds=3600),
        result(tasks[2], {"n": 2}),
    ]
    run_writes.clear()
    answers = api.post(BATCH, json=items).json()
    assert answers == [{"taskId": i["taskId"], "next": None} for i in items]
    assert run_writes[run_id] == 1
    body = run(api, run_id)
    assert body["status"] == "RUNNING"
    held = task_of(body, "b0")
    # The later progress of b0 is the one that stands: postponed, with its output.
    assert held["status"] == "IN_PROGRESS" and held["outputData"] == {"step": 2}
    assert held["callbackAfterSeconds"] == 3600
    assert poll(api, "work", worker="other", timeout_ms=200) == []
    assert [task_of(body, r)["status"] for r in ("b1", "b2")] == ["COMPLETED", "COMPLETED"]


def test_a_group_that_fails_midway_is_recorded_one_unit_per_result(
    api, monkeypatch: pytest.MonkeyPatch
):
    register(api, fan("fan3", 3), [{"name": "work", "retryCount": 0}])
    run_id = start(api, "fan3")
    tasks = poll(api, "work", count=3)

    def broken(self: HeldRun) -> None:
        raise RuntimeError("lost midway")

    monkeypatch.setattr(HeldRun, "flush", broken)
    items = [result(t, {"ref": t["referenceTaskName"]}) for t in tasks]
    answers = api.post(BATCH, json=[*items, items[0]]).json()
    # The repeat of the first result finds it recorded, and is answered as it was.
    assert answers == [{"taskId": i["taskId"], "next": None} for i in [*items, items[0]]]
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "join")["outputData"] == {
        t["referenceTaskName"]: {"ref": t["referenceTaskName"]} for t in tasks
    }


def test_a_result_is_handed_the_task_an_earlier_result_of_its_batch_queued(run_writes, api):
    flow = fan("steps", 3)
    flow["tasks"][0]["forkTasks"] = [
        [
            {"name": "work", "taskReferenceName": f"a{i}"},
            {"name": "work", "taskReferenceName": f"z{i}"},
        ]
        for i in range(3)
    ]
    flow["tasks"][1]["joinOn"] = [f"z{i}" for i in range(3)]
    register(api, flow, [{"name": "work", "retryCount": 0}])
    run_id = start(api, "steps")
    a = sorted(poll(api, "work", count=3), key=lambda t: t["referenceTaskName"])
    run_writes.clear()
    # The first claim finds the queue empty; the results after it queue z0 and z1.
    items = [result(a[2], status="IN_PROGRESS"), result(a[0]), result(a[1])]
    answers = api.post(BATCH, json=items).json()
    assert answers[0] == {"taskId": a[2]["taskId"], "next": None}
    assert [x["next"]["referenceTaskName"] for x in answers[1:]] == ["z0", "z1"]
    assert all(x["next"]["workerId"] == "w1" for x in answers[1:])
    assert run_writes[run_id] == 1
    assert poll(api, "work", worker="other", timeout_ms=200) == []


@pytest.fixture
def run_lookups(monkeypatch: pytest.MonkeyPatch, store_choice: Any) -> list[int]:
    """The number of task ids each look-up of their runs (``runs_of_tasks``) was given."""
    asked: list[int] = []
    cls: Any = PostgresTx if store_choice.backend == "postgres" else SQLiteTx
    original = cls.runs_of_tasks

    def counting(self: Any, task_ids: Any) -> Any:
        asked.append(len(task_ids))
        return original(self, task_ids)

    monkeypatch.setattr(cls, "runs_of_tasks", counting)
    return asked


def test_the_runs_of_tasks_this_server_handed_out_are_not_looked_up(
    run_lookups, api, server, store_choice
):
    register(api, fan("fan6", 6), [{"name": "work", "retryCount": 0}])
    run_id = start(api, "fan6")
    tasks = poll(api, "work", count=6)
    assert len(tasks) == 6
    # One result for a task this server never handed out: only that one is looked up.
    server.app.state.orchestrator.task_runs.forget(tasks[0]["taskId"])
    run_lookups.clear()
    response = api.post(BATCH, json=[result(t, {"ref": t["referenceTaskName"]}) for t in tasks])
    assert response.status_code == 200, response.text
    assert response.json() == [{"taskId": t["taskId"], "next": None} for t in tasks]
    if store_choice.backend == "postgres":
        assert run_lookups == [1]  # the batch's own look-up, before its units
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_a_fan_outs_results_in_one_batch_read_its_queue_rows_once(
    api, monkeypatch: pytest.MonkeyPatch, store_choice: Any
):
    # Each result's own writes (its outcome row for SLOs, ...) must not make the next result
    # read the run's queue rows again: that read costs the fan-out's width, at every result.
    reads: Counter[str] = Counter()
    cls: Any = PostgresTx if store_choice.backend == "postgres" else SQLiteTx
    original = cls.queue_entries

    def counting(self: Any, run_id: str) -> Any:
        reads[run_id] += 1
        return original(self, run_id)

    monkeypatch.setattr(cls, "queue_entries", counting)
    register(api, fan("fan40", 40), [{"name": "work", "retryCount": 0}])
    run_id = start(api, "fan40")
    tasks = poll(api, "work", count=40)
    assert len(tasks) == 40
    reads.clear()
    response = api.post(BATCH, json=[result(t, {"ref": t["referenceTaskName"]}) for t in tasks])
    assert response.status_code == 200, response.text
    assert reads[run_id] == 1
    assert wait_status(api, run_id)["status"] == "COMPLETED"
