"""``POST /api/tasks/update-batch``: many results in one request, each its own unit of work."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from podium.observability.context import run_trace_id
from podium.observability.tracing import SpanEmitter
from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

BATCH = "/api/tasks/update-batch"
ONE = {"name": "one", "version": 1, "tasks": [{"name": "work", "taskReferenceName": "work"}]}


def result(task: dict[str, Any], output: dict[str, Any] | None = None, **fields: Any):
    return {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": "COMPLETED",
        "workerId": "w1",
        "outputData": output or {},
        **fields,
    }


def test_each_result_is_recorded_and_answered_with_the_workers_next_task(api):
    register(api, ONE, [{"name": "work", "retryCount": 0}])
    runs = [start(api, "one", {"n": n}) for n in range(4)]
    first = poll(api, "work", worker="w1", count=2)
    response = api.post(BATCH, json=[result(t, {"n": i}) for i, t in enumerate(first)])
    assert response.status_code == 200
    answers = response.json()
    # One answer per result, in the request's order, each with a next task of its own.
    assert [a["taskId"] for a in answers] == [t["taskId"] for t in first]
    following = [a["next"] for a in answers]
    assert all(t["status"] == "IN_PROGRESS" and t["workerId"] == "w1" for t in following)
    handed = {t["workflowInstanceId"] for t in first + following}
    assert handed == set(runs)
    last = api.post(BATCH, json=[result(t) for t in following])
    assert [a["next"] for a in last.json()] == [None, None]
    for i, task in enumerate(first):
        body = wait_status(api, task["workflowInstanceId"])
        assert body["status"] == "COMPLETED"
        assert body["output"] == {"n": i}
    assert poll(api, "work", timeout_ms=100) == []


@pytest.fixture
def small(store_choice):
    with store_choice.server(max_task_output_bytes=100, sweep_interval_s=0.2) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client


def test_a_refused_result_leaves_the_others_recorded(small):
    register(small, ONE, [{"name": "work", "retryCount": 0}])
    for _ in range(5):
        start(small, "one")
    good, done, big, scheduled, late = poll(small, "work", worker="w1", count=5)
    assert complete(small, done).status_code == 200
    items = [
        result(good, {"ok": 1}),
        result({"taskId": "no-such-task", "workflowInstanceId": "w"}),
        result(done, {"again": True}),
        result(big, {"x": "y" * 200}),
        result(scheduled, status="SCHEDULED"),
        result(late, {"ok": 2}),
    ]
    response = small.post(BATCH, json=items)
    assert response.status_code == 200
    answers = response.json()
    assert [a["taskId"] for a in answers] == [i["taskId"] for i in items]
    assert answers[0] == {"taskId": good["taskId"], "next": None}
    assert answers[5] == {"taskId": late["taskId"], "next": None}
    errors = [a["error"] for a in answers[1:5]]
    assert [(e["status"], e["code"]) for e in errors] == [
        (404, "E_TASK_NOT_FOUND"),
        (409, "E_TASK_FINISHED"),
        (413, "E_PAYLOAD_TOO_LARGE"),
        (400, "E_INVALID"),
    ]
    # The same bodies a single update-v2 would have answered.
    alone = small.post("/api/tasks/update-v2", json=items[3])
    assert alone.status_code == 413 and alone.json() == errors[2]
    assert errors[2]["field"] == "outputData" and errors[3]["field"] == "status"
    assert wait_status(small, good["workflowInstanceId"])["output"] == {"ok": 1}
    assert wait_status(small, late["workflowInstanceId"])["output"] == {"ok": 2}
    assert run(small, done["workflowInstanceId"])["output"] == {}
    for refused in (big, scheduled):
        task = task_of(run(small, refused["workflowInstanceId"]), "work")
        assert task["status"] == "IN_PROGRESS" and task["outputData"] == {}


def test_bad_requests_are_refused_whole_and_change_nothing(api):
    register(api, ONE, [{"name": "work", "retryCount": 0}])
    run_id = start(api, "one")
    [task] = poll(api, "work", worker="w1")
    good = result(task, {"ok": 1})
    cases = {
        "not an array": (good, "body"),
        "empty": ([], "body"),
        "too many": ([good] * 101, "body"),
        "bad status": ([good, {**good, "taskId": "t2", "status": "DONE"}], "[1].status"),
        "no task id": ([good, {"status": "COMPLETED"}], "[1].taskId"),
        "not an object": ([good, 7], "[1]"),
    }
    for name, (body, field) in cases.items():
        response = api.post(BATCH, json=body)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["field"] == field, name
    assert "1 to 100" in api.post(BATCH, json=[good] * 101).json()["message"]
    malformed = api.post(BATCH, content=b"[{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["field"] == "body"
    assert api.post(BATCH).status_code == 400
    assert task_of(run(api, run_id), "work")["status"] == "IN_PROGRESS"
    assert api.post(BATCH, json=[good]).json() == [{"taskId": task["taskId"], "next": None}]
    assert wait_status(api, run_id)["output"] == {"ok": 1}


def test_the_whole_body_is_held_to_the_payload_limit(store_choice):
    with store_choice.server(max_payload_bytes=2000) as server:
        items = [{"taskId": f"t{i}", "status": "COMPLETED", "outputData": {}} for i in range(40)]
        response = httpx.post(f"{server.url}{BATCH}", json=items)
        assert response.status_code == 413
        assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"


PARENT = {
    "name": "parent",
    "tasks": [
        {"name": "work", "taskReferenceName": "work"},
        {
            "name": "child",
            "taskReferenceName": "child",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "one"},
        },
    ],
}


def test_each_result_carries_its_own_traceparent(store_choice):
    """A result that starts a child run links it to the span that result came from."""
    exporter = InMemorySpanExporter()
    emitter = SpanEmitter(exporter, service_name="podium-server", batch=False)
    with store_choice.server(spans=emitter) as server, httpx.Client(base_url=server.url) as api:
        register(api, ONE, [{"name": "work", "retryCount": 0}])
        register(api, PARENT)
        parents = [start(api, "parent") for _ in range(2)]
        tasks = sorted(
            poll(api, "work", count=2), key=lambda t: parents.index(t["workflowInstanceId"])
        )
        callers = [f"00-{n:032x}-{n:016x}-01" for n in (0xA1, 0xB2)]
        items = [result(t, traceparent=c) for t, c in zip(tasks, callers, strict=True)]
        # The header stands for items without a traceparent of their own, as it does for v2.
        response = api.post(
            BATCH, json=items, headers={"traceparent": f"00-{'c' * 32}-{'c' * 16}-01"}
        )
        assert response.status_code == 200, response.text
        children = [
            task_of(wait_status(api, p, {"RUNNING"}), "child")["subWorkflowId"] for p in parents
        ]
        assert all(children)
    starts = [s for s in exporter.get_finished_spans() if s.name == "start one"]
    linked = {
        f"{s.links[0].context.trace_id:032x}": (
            f"{s.context.trace_id:032x}",
            f"{s.parent.span_id:016x}",
        )
        for s in starts
    }
    for child, caller in zip(children, callers, strict=True):
        _, trace_id, span_id, _ = caller.split("-")
        assert linked[run_trace_id(child)] == (trace_id, span_id)
