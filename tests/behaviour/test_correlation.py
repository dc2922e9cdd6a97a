"""Correlation ids as Conductor has them: null unless given; tracing follows the trace id."""

from __future__ import annotations

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

CHILD = {
    "name": "corr_child",
    "tasks": [
        {
            "name": "echo",
            "taskReferenceName": "echo",
            "type": "INLINE",
            "inputParameters": {
                "evaluatorType": "javascript",
                "expression": "$.seen",
                "seen": "${workflow.correlationId}",
            },
        }
    ],
}
PARENT = {
    "name": "corr_parent",
    "tasks": [
        {"name": "step", "taskReferenceName": "step", "inputParameters": {"c": "${workflow.correlationId}"}},
        {
            "name": "corr_child",
            "taskReferenceName": "child",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "corr_child"},
        },
        {"name": "announce", "taskReferenceName": "announce", "type": "EVENT", "sink": "conductor:corr.done"},
    ],
}  # fmt: skip


def _finish(api, run_id: str) -> dict:
    (task,) = poll(api, "step")
    assert task["correlationId"] is None
    complete(api, task, {})
    return wait_status(api, run_id)


def test_a_run_started_without_a_correlation_id_has_none_and_is_traced_by_its_id(api):
    register(api, CHILD)
    register(api, PARENT)
    run_id = start(api, "corr_parent")
    body = _finish(api, run_id)
    assert body["status"] == "COMPLETED", body
    assert body["correlationId"] is None
    assert task_of(body, "step")["inputData"] == {"c": None}
    child_id = task_of(body, "child")["subWorkflowId"]
    child = run(api, child_id)
    assert child["correlationId"] is None  # the parent's, which is none
    assert task_of(child, "echo")["outputData"] == {"result": None}
    status = api.get(f"/api/workflow/{run_id}/status").json()
    assert status["correlationId"] is None
    found = api.get("/api/workflow/search", params={"query": "workflowType = 'corr_parent'"})
    assert [hit["correlationId"] for hit in found.json()["results"]] == [None]

    for asked in (run_id, child_id):  # the run's trace, by its own id or its child's
        trace = api.get(f"/api/trace/{asked}")
        assert trace.status_code == 200, trace.text
        labels = {(node["kind"], node["label"]) for node in trace.json()["nodes"]}
        assert ("workflow", "corr_parent v1") in labels
        assert ("workflow", "corr_child v1") in labels
        assert ("event", "corr.done") in labels  # the EVENT task's event carries the trace id
    events = api.get("/api/events", params={"correlationId": run_id}).json()
    assert [event["topic"] for event in events] == ["corr.done"]


def test_a_given_correlation_id_is_shown_and_carried_to_children(api):
    register(api, CHILD)
    register(api, PARENT)
    run_id = start(api, "corr_parent", correlationId="order-9")
    body = _finish_given(api, run_id)
    assert body["correlationId"] == "order-9"
    child = run(api, task_of(body, "child")["subWorkflowId"])
    assert child["correlationId"] == "order-9"
    assert task_of(child, "echo")["outputData"] == {"result": "order-9"}
    assert api.get("/api/trace/order-9").status_code == 200
    assert api.get("/api/trace/no-such-thing").status_code == 404


def _finish_given(api, run_id: str) -> dict:
    (task,) = poll(api, "step")
    assert task["correlationId"] == "order-9"
    complete(api, task, {})
    return wait_status(api, run_id)


def test_a_run_without_a_correlation_id_is_not_found_by_one(api):
    register(api, CHILD)
    run_id = start(api, "corr_child")
    wait_status(api, run_id)
    found = api.get(
        f"/api/workflow/corr_child/correlated/{run_id}", params={"includeClosed": "true"}
    )
    assert found.status_code == 200
    assert found.json() == []
