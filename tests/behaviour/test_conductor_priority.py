"""Conductor's run priority (0-99): within a queue, tasks of higher-priority runs are handed
out first, then the longest-waiting; a priority out of range is refused naming the field."""

from __future__ import annotations

from typing import Any

import httpx

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

ONE = {
    "name": "prio_one",
    "tasks": [
        {
            "name": "prio_t",
            "taskReferenceName": "t",
            "inputParameters": {"p": "${workflow.input.p}"},
        }
    ],
}
DEFS = [{"name": "prio_t", "retryCount": 0}]


def _start(api: httpx.Client, priority: int | None, **extra: Any) -> str:
    body: dict[str, Any] = {"name": "prio_one", "input": {"p": priority}, **extra}
    if priority is not None:
        body["priority"] = priority
    response = api.post("/api/workflow", json=body)
    assert response.status_code == 200, response.text
    return response.text


def test_higher_priority_runs_are_handed_out_first(api):
    register(api, ONE, DEFS)
    ids = {p: _start(api, p) for p in (10, None, 90, 50)}
    ids[70] = start(api, "prio_one", {"p": 70}, priority=70)  # the query form
    first = poll(api, "prio_t", count=1)
    rest = poll(api, "prio_t", count=4)
    order = [task["inputData"]["p"] for task in first + rest]
    assert order == [90, 70, 50, 10, None]
    assert [task["workflowPriority"] for task in first + rest] == [90, 70, 50, 10, 0]
    assert run(api, ids[90])["priority"] == 90


def test_a_retry_keeps_the_runs_priority(api):
    register(api, ONE, [{"name": "prio_t", "retryCount": 1, "retryDelaySeconds": 0}])
    low, high = _start(api, 1), _start(api, 99)
    (task,) = poll(api, "prio_t", count=1)
    assert task["workflowInstanceId"] == high
    assert complete(api, task, status="FAILED").status_code == 200
    (again,) = poll(api, "prio_t", count=1)  # the retry still goes before the older low one
    assert (again["workflowInstanceId"], again["retryCount"]) == (high, 1)
    assert poll(api, "prio_t", count=1)[0]["workflowInstanceId"] == low


PARENT = {
    "name": "prio_parent",
    "tasks": [
        {
            "name": "sub",
            "taskReferenceName": "sub",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "prio_one", "priority": 42},
        },
        {
            "name": "later",
            "taskReferenceName": "later",
            "type": "START_WORKFLOW",
            "inputParameters": {"startWorkflow": {"name": "prio_one", "priority": 7}},
        },
    ],
}


def test_sub_workflows_and_started_runs_take_the_priority_they_are_given(api):
    register(api, ONE, DEFS)
    register(api, PARENT)
    parent = _start_named(api, "prio_parent", 3)
    (task,) = poll(api, "prio_t", count=1)
    assert task["workflowPriority"] == 42
    assert complete(api, task).status_code == 200
    body = wait_status(api, parent)
    started = task_of(body, "later")["outputData"]["workflowId"]
    assert run(api, started)["priority"] == 7


def _start_named(api: httpx.Client, name: str, priority: int) -> str:
    response = api.post("/api/workflow", json={"name": name, "priority": priority})
    assert response.status_code == 200, response.text
    return response.text


def test_a_priority_out_of_range_is_refused_naming_the_field(api):
    register(api, ONE, DEFS)
    for bad in (-1, 100):
        body = api.post("/api/workflow", json={"name": "prio_one", "priority": bad})
        assert body.status_code == 400, body.text
        assert body.json()["field"] == "priority"
        query = api.post("/api/workflow/prio_one", params={"priority": bad}, json={})
        assert query.status_code == 400, query.text
        assert query.json()["field"] == "priority"
    sub = {
        **PARENT,
        "name": "prio_bad",
        "tasks": [
            {**PARENT["tasks"][0], "subWorkflowParam": {"name": "prio_one", "priority": 100}}
        ],
    }
    refused = api.post("/api/metadata/workflow", json=sub)
    assert refused.status_code == 400, refused.text
    assert "priority" in refused.json()["field"]


def test_a_sub_workflows_priority_may_be_an_expression(api):
    register(api, ONE, DEFS)
    step = {
        **PARENT["tasks"][0],
        "subWorkflowParam": {"name": "prio_one", "priority": "${workflow.input.p}"},
    }
    register(api, {"name": "prio_expr", "tasks": [step]})
    response = api.post("/api/workflow", json={"name": "prio_expr", "input": {"p": 64}})
    assert response.status_code == 200, response.text
    (task,) = poll(api, "prio_t", count=1)
    assert task["workflowPriority"] == 64
    failed = api.post("/api/workflow", json={"name": "prio_expr", "input": {"p": 500}}).text
    body = wait_status(api, failed)
    assert body["status"] == "FAILED"
    assert "priority" in task_of(body, "sub")["reasonForIncompletion"]
    word = {**step, "subWorkflowParam": {"name": "prio_one", "priority": "high"}}
    refused = api.post("/api/metadata/workflow", json={"name": "prio_word", "tasks": [word]})
    assert refused.status_code == 400, refused.text
