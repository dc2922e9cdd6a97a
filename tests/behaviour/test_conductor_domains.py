"""Conductor's task domains: a run's ``taskToDomain`` queues its worker tasks on
``domain:type``, which only workers polling with that domain get; fallback lists pick the
first domain with a live worker; sub-workflows and started runs inherit the mapping."""

from __future__ import annotations

from typing import Any

import httpx

from podium.worker import WorkerRunner, worker_task
from tests.behaviour.helpers import complete, register, run, task_of, wait_status

TWO = {
    "name": "dom_two",
    "tasks": [
        {"name": "dom_a", "taskReferenceName": "a"},
        {"name": "dom_b", "taskReferenceName": "b"},
    ],
}
DEFS = [{"name": name, "retryCount": 0} for name in ("dom_a", "dom_b")]


def _start(api: httpx.Client, name: str, task_to_domain: dict[str, str], **extra: Any) -> str:
    body = {"name": name, "input": {}, "taskToDomain": task_to_domain, **extra}
    response = api.post("/api/workflow", json=body)
    assert response.status_code == 200, response.text
    return response.text


def _poll(api: httpx.Client, task_type: str, domain: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"workerid": "w", "count": 5, "timeout": 0}
    if domain is not None:
        params["domain"] = domain
    response = api.get(f"/api/tasks/poll/batch/{task_type}", params=params)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def _size(api: httpx.Client, task_type: str, domain: str | None = None) -> int:
    params = {"taskType": task_type, **({"domain": domain} if domain else {})}
    response = api.get("/api/tasks/queue/size", params=params)
    assert response.status_code == 200, response.text
    size: int = response.json()
    return size


def test_a_mapped_task_goes_to_its_domain_queue_only(api):
    register(api, TWO, DEFS)
    run_id = _start(api, "dom_two", {"dom_a": "blue"})
    assert _size(api, "dom_a", "blue") == 1
    assert _size(api, "dom_a") == 0
    assert "blue:dom_a" in api.get("/api/tasks/queue/all").json()
    assert _poll(api, "dom_a") == []  # no domain: the type's own queue, which is empty
    assert _poll(api, "dom_a", "red") == []
    one = api.get("/api/tasks/poll/dom_a", params={"workerid": "w", "domain": "red"})
    assert one.status_code == 204
    (task,) = _poll(api, "dom_a", "blue")
    assert task["domain"] == "blue"
    assert complete(api, task).status_code == 200
    # dom_b has no mapping: it waits on its own queue, for workers polling without a domain.
    assert _poll(api, "dom_b", "blue") == []
    (second,) = _poll(api, "dom_b")
    assert second["domain"] is None
    assert complete(api, second).status_code == 200
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["taskToDomain"] == {"dom_a": "blue"}
    assert task_of(body, "a")["domain"] == "blue"
    domains = {
        (p["queueName"], p["domain"])
        for p in api.get("/api/tasks/queue/polldata", params={"taskType": "dom_a"}).json()
    }
    assert ("dom_a", "blue") in domains and ("dom_a", "red") in domains


def test_star_maps_every_task_and_a_type_of_its_own_overrides_it(api):
    register(api, TWO, DEFS)
    _start(api, "dom_two", {"*": "green", "dom_b": "NO_DOMAIN"})
    (first,) = _poll(api, "dom_a", "green")
    assert complete(api, first).status_code == 200
    assert _poll(api, "dom_b", "green") == []
    (second,) = _poll(api, "dom_b")
    assert second["domain"] is None


def test_a_fallback_list_takes_the_first_domain_a_worker_polls(api):
    register(api, TWO, DEFS)
    # Nobody polls "live" yet: with NO_DOMAIN last the task goes to the type's own queue,
    # and without it to the last domain listed.
    _start(api, "dom_two", {"dom_a": "live, NO_DOMAIN"})
    assert _size(api, "dom_a") == 1
    _start(api, "dom_two", {"dom_a": "live,spare"})
    assert _size(api, "dom_a", "spare") == 1
    assert _poll(api, "dom_a", "live") == []  # now a worker has polled "live"
    _start(api, "dom_two", {"dom_a": "gone,live,NO_DOMAIN"})
    (task,) = _poll(api, "dom_a", "live")
    assert task["domain"] == "live"


CHILD = {"name": "dom_child", "tasks": [{"name": "dom_b", "taskReferenceName": "b"}]}
PARENT = {
    "name": "dom_parent",
    "tasks": [
        {
            "name": "sub",
            "taskReferenceName": "sub",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "dom_child", "version": 1},
        },
        {
            "name": "own",
            "taskReferenceName": "own",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "dom_child", "taskToDomain": {"dom_b": "mine"}},
        },
        {
            "name": "later",
            "taskReferenceName": "later",
            "type": "START_WORKFLOW",
            "inputParameters": {"startWorkflow": {"name": "dom_child", "input": {}}},
        },
    ],
}


def test_sub_workflows_and_started_runs_inherit_the_mapping(api):
    register(api, CHILD, DEFS)
    register(api, PARENT)
    run_id = _start(api, "dom_parent", {"dom_b": "blue"})
    (first,) = _poll(api, "dom_b", "blue")
    assert complete(api, first).status_code == 200
    (second,) = _poll(api, "dom_b", "mine")  # the step's own mapping wins over the parent's
    assert complete(api, second).status_code == 200
    assert wait_status(api, run_id)["status"] == "COMPLETED"
    started = task_of(run(api, run_id), "later")["outputData"]["workflowId"]
    assert run(api, started)["taskToDomain"] == {"dom_b": "blue"}
    (third,) = _poll(api, "dom_b", "blue")
    assert third["workflowInstanceId"] == started


@worker_task("dom_a", domain="blue")
def blue_a() -> dict[str, str]:
    return {"by": "blue"}


@worker_task("dom_b")
def plain_b() -> dict[str, str]:
    return {"by": "plain"}


def test_the_worker_sdk_polls_its_domain(api, server):
    register(api, TWO, DEFS)
    run_id = _start(api, "dom_two", {"dom_a": "blue"})
    WorkerRunner(server.url, [blue_a, plain_b], poll_timeout_ms=50).run(burst=True)
    body = wait_status(api, run_id, timeout=5)
    assert body["status"] == "COMPLETED", body
    assert task_of(body, "a")["outputData"] == {"by": "blue"}


def test_requeue_pushes_the_types_pending_tasks_back_and_counts_them(api):
    register(api, TWO, DEFS)
    for _ in range(2):
        _start(api, "dom_two", {})
    _start(api, "dom_two", {"dom_a": "blue"})  # its domain's queue is the type's too
    (held,) = _poll_n(api, "w1", 1)
    answer = api.post("/api/tasks/queue/requeue/dom_a")
    assert (answer.status_code, answer.text) == (200, "3")
    # The claimed task is handed out again; the worker that held it has lost it.
    again = {task["taskId"] for task in _poll_n(api, "w2", 5)}
    assert held["taskId"] in again and len(again) == 2
    late = complete(api, held, worker="w1")
    assert late.status_code == 409, late.text
    assert api.post("/api/tasks/queue/requeue/dom_b").text == "0"


def _poll_n(api: httpx.Client, worker: str, count: int) -> list[dict[str, Any]]:
    params = {"workerid": worker, "count": count, "timeout": 0}
    response = api.get("/api/tasks/poll/batch/dom_a", params=params)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def test_update_v2_hands_a_domain_worker_its_domains_next_task(api):
    register(api, TWO, DEFS)
    _start(api, "dom_two", {})  # waits on the type's own queue: not this worker's
    for _ in range(2):
        _start(api, "dom_two", {"dom_a": "blue"})
    first = api.get("/api/tasks/poll/dom_a", params={"workerid": "w", "domain": "blue"}).json()
    body = {
        "taskId": first["taskId"],
        "workflowInstanceId": first["workflowInstanceId"],
        "status": "COMPLETED",
        "workerId": "w",
    }
    answer = api.post("/api/tasks/update-v2", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["domain"] == "blue"
    assert _size(api, "dom_a") == 1
