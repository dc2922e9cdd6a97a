"""JSON nested past PODIUM_MAX_JSON_DEPTH: a 400 naming the field and the limit for what a
request brings, a failed task naming the limit for what a run makes; never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.behaviour.helpers import poll, register, run, start, task_of, wait_status

LIMIT = "PODIUM_MAX_JSON_DEPTH"
JSON = {"content-type": "application/json"}


def nested(levels: int) -> Any:
    """A value of ``levels`` nested arrays, built without recursion."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def raw(levels: int) -> str:
    return "[" * levels + "]" * levels


def one_step(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [{"name": "work", "taskReferenceName": "work", "type": "SIMPLE"}],
    }


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == field, body
    assert LIMIT in body["message"] and "64" in body["message"], body


def no_runs(api: httpx.Client, name: str) -> None:
    found = api.get("/api/workflow/search", params={"query": f"workflowType='{name}'"})
    assert found.json()["totalHits"] == 0


@pytest.mark.parametrize("levels", [65, 300, 1_000, 5_000, 100_000])
def test_deep_run_input_is_refused_and_nothing_starts(api, levels):
    register(api, one_step("deep_in"))
    by_name = api.post("/api/workflow/deep_in", content=f'{{"a": {raw(levels)}}}', headers=JSON)
    refused(by_name, "input")
    body = f'{{"name": "deep_in", "input": {{"a": {raw(levels)}}}}}'
    # Past 1,024 levels the body is refused while it is parsed, before its keys are known.
    field = "input" if levels <= 1_000 else "body"
    refused(api.post("/api/workflow", content=body, headers=JSON), field)
    no_runs(api, "deep_in")
    assert poll(api, "work", timeout_ms=50) == []


def test_input_within_the_limit_is_kept_whole(api):
    register(api, one_step("deep_ok"))
    value = {"a": nested(63)}  # 64 levels with the input object itself
    run_id = start(api, "deep_ok", value)
    assert run(api, run_id)["input"] == value
    (task,) = poll(api, "work")
    assert task["workflowInstanceId"] == run_id


def test_deep_worker_output_is_refused_and_the_run_is_unchanged(api):
    register(api, one_step("deep_out"))
    run_id = start(api, "deep_out")
    (task,) = poll(api, "work")
    before = run(api, run_id)
    result = {"taskId": task["taskId"], "workflowInstanceId": run_id, "status": "COMPLETED"}
    for path in ("/api/tasks", "/api/tasks/update-v2"):
        body = {**result, "outputData": {"x": nested(300)}}
        refused(api.post(path, json=body), "outputData")
    batch = api.post("/api/tasks/update-batch", json=[{**result, "outputData": {"x": nested(80)}}])
    refused(batch, "[0].outputData")
    by_ref = api.post(f"/api/tasks/{run_id}/work/COMPLETED", content=raw(2_000), headers=JSON)
    refused(by_ref, "outputData")
    after = run(api, run_id)
    assert after["status"] == "RUNNING"
    assert task_of(after, "work")["status"] == task_of(before, "work")["status"]
    assert task_of(after, "work")["outputData"] == {}
    done = api.post(
        "/api/tasks", json={**result, "outputData": {"x": nested(10)}, "workerId": "w1"}
    )
    assert done.status_code == 200, done.text
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_deep_variables_are_refused_and_the_run_is_unchanged(api):
    register(api, one_step("deep_vars"))
    run_id = start(api, "deep_vars")
    response = api.post(f"/api/workflow/{run_id}/variables", json={"v": nested(100)})
    refused(response, "variables")
    assert run(api, run_id)["variables"] == {}


def test_deep_event_payload_and_definition_are_refused(api):
    published = api.post("/api/events/orders", json={"payload": {"p": nested(200)}})
    refused(published, "payload")
    assert api.get("/api/events", params={"topic": "orders"}).json() == []
    flow = one_step("deep_def")
    flow["tasks"][0]["inputParameters"] = {"p": nested(100)}
    refused(api.post("/api/metadata/workflow", json=flow), "tasks")
    assert api.get("/api/metadata/workflow/deep_def").status_code == 404


def script_flow(name: str, step: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "tasks": [{"taskReferenceName": "script", "name": "script", **step}]}


INLINE = {
    "type": "INLINE",
    "inputParameters": {
        "evaluatorType": "javascript",
        "expression": "var v = []; for (var i = 0; i < 300; i++) { v = [v]; } v",
    },
}
JQ = {
    "type": "JSON_JQ_TRANSFORM",
    "inputParameters": {"queryExpression": "reduce range(300) as $i ([]; [.])"},
}


@pytest.mark.parametrize("step", [INLINE, JQ], ids=["inline", "jq"])
def test_a_script_result_past_the_limit_fails_its_task(api, step):
    register(
        api,
        script_flow("deep_script", step),
        [{"name": "script", "retryCount": 0, "responseTimeoutSeconds": 10}],
    )
    run_id = start(api, "deep_script")
    ended = wait_status(api, run_id)
    assert ended["status"] == "FAILED", ended
    script = task_of(ended, "script")
    assert script["status"] == "FAILED"
    assert LIMIT in script["reasonForIncompletion"]
    assert LIMIT in ended["reasonForIncompletion"]


def test_variables_nested_deeper_each_iteration_fail_the_step_not_the_server(api):
    flow = {
        "name": "deepening",
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "true",
                "loopOver": [
                    {
                        "name": "nest",
                        "taskReferenceName": "nest",
                        "type": "SET_VARIABLE",
                        "inputParameters": {"v": {"in": "${workflow.variables.v}"}},
                    }
                ],
            }
        ],
        "variables": {"v": 0},
    }
    register(api, flow)
    ended = wait_status(api, start(api, "deepening"))
    assert ended["status"] == "FAILED", ended
    assert LIMIT in ended["reasonForIncompletion"]
    failed = [t for t in ended["tasks"] if t["status"] == "FAILED_WITH_TERMINAL_ERROR"]
    assert [t["taskType"] for t in failed] == ["SET_VARIABLE"]
    assert LIMIT in failed[0]["reasonForIncompletion"]
