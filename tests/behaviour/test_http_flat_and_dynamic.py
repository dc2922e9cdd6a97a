"""HTTP tasks in Conductor's flat form, and dynamic forks whose branches are system tasks.

The flat form writes the request's keys (``uri``, ``method``, ``headers``, ``body``, ...) straight
into ``inputParameters``; ``http_request``, when given, is the request. A dynamic fork's HTTP
branches run on the server's executor like the definition's own HTTP steps, and its INLINE,
SET_VARIABLE and JSON_JQ_TRANSFORM branches run inside the engine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.behaviour.helpers import complete, register, run, start, task_of, wait_status
from tests.behaviour.http_services import EchoService, echo_service

VALUE = "tok-91c2-flat"


@pytest.fixture
def echo() -> Iterator[EchoService]:
    with echo_service() as service:
        yield service


def _http(ref: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "HTTP", "inputParameters": inputs}


def _fork(inputs: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
    fork = {
        "name": "fork",
        "taskReferenceName": "fork",
        "type": "FORK_JOIN_DYNAMIC",
        "inputParameters": inputs,
        **fields,
    }
    return [fork, {"name": "join", "taskReferenceName": "join", "type": "JOIN"}]


def _response_body(body: dict[str, Any], ref: str) -> Any:
    return task_of(body, ref)["outputData"]["response"]["body"]


def test_a_flat_form_http_task_registers_and_runs(api, echo):
    flat = {
        "uri": f"{echo.url}/orders/${{workflow.input.id}}",
        "method": "POST",
        "headers": {"X-Order": "${workflow.input.id}"},
        "body": {"id": "${workflow.input.id}", "qty": 2},
        "accept": "application/json",
        "contentType": "application/json",
        "connectionTimeOut": 2000,
        "readTimeOut": 2000,
    }
    register(api, {"name": "flat_http", "tasks": [_http("call", flat)]})
    body = wait_status(api, start(api, "flat_http", {"id": "o-7"}))
    assert body["status"] == "COMPLETED", body
    [seen] = echo.seen
    assert (seen.method, seen.path) == ("POST", "/orders/o-7")
    assert seen.headers["x-order"] == "o-7"
    assert seen.headers["content-type"] == "application/json"
    assert json.loads(seen.body) == {"id": "o-7", "qty": 2}
    response = task_of(body, "call")["outputData"]["response"]
    assert response["statusCode"] == 200
    assert response["body"] == {"path": "/orders/o-7"}


def test_http_request_wins_over_flat_keys_beside_it(api, echo):
    inputs = {
        "http_request": {"uri": f"{echo.url}/nested", "method": "PUT"},
        "uri": f"{echo.url}/flat",
        "method": "POST",
    }
    response = api.post(
        "/api/metadata/workflow", json={"name": "both_forms", "tasks": [_http("call", inputs)]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == [
        f"tasks[0].inputParameters.{key} (task 'call'): ignored; "
        "the request is inputParameters.http_request"
        for key in ("method", "uri")
    ]
    body = wait_status(api, start(api, "both_forms"))
    assert body["status"] == "COMPLETED", body
    assert [(s.method, s.path) for s in echo.seen] == [("PUT", "/nested")]


def test_a_flat_form_http_task_without_a_uri_is_refused_naming_the_field(api):
    flow = {"name": "flat_no_uri", "tasks": [_http("call", {"uri": "", "method": "GET"})]}
    response = api.post("/api/metadata/workflow", json=flow)
    assert response.status_code == 400
    assert response.json()["field"] == "tasks[0].inputParameters.uri"
    assert api.get("/api/metadata/workflow/flat_no_uri").status_code == 404


def test_a_flat_form_secret_is_filled_only_from_the_definition(api, echo, monkeypatch):
    monkeypatch.setenv("PODIUM_SECRET_TOKEN", VALUE)
    flat = {
        "uri": f"{echo.url}/secure",
        "method": "POST",
        "headers": {"Authorization": "Bearer ${workflow.secrets.TOKEN}"},
        "body": {"note": "${workflow.input.note}"},
    }
    register(api, {"name": "flat_secret", "tasks": [_http("call", flat)]})
    body = wait_status(api, start(api, "flat_secret", {"note": "${workflow.secrets.TOKEN}"}))
    assert body["status"] == "COMPLETED", body
    [seen] = echo.seen
    assert seen.headers["authorization"] == f"Bearer {VALUE}"
    # The same reference arriving as data is sent as the text it is.
    assert json.loads(seen.body) == {"note": "${workflow.secrets.TOKEN}"}
    assert VALUE not in api.get(f"/api/workflow/{body['workflowId']}").text


def test_a_dynamic_fork_of_http_branches_by_fork_task_type(api, echo):
    # Conductor's documented form: forkTaskName and forkTaskType, flat inputs per branch.
    inputs = {
        "forkTaskName": "resize",
        "forkTaskType": "HTTP",
        "forkTaskInputs": [
            {"uri": f"{echo.url}/images/1"},
            {"uri": f"{echo.url}/images/2", "method": "GET"},
            {"http_request": {"uri": f"{echo.url}/images/3", "method": "POST", "body": {}}},
        ],
    }
    register(api, {"name": "fan_http", "tasks": _fork(inputs)})
    body = wait_status(api, start(api, "fan_http"))
    assert body["status"] == "COMPLETED", body
    assert sorted(s.path for s in echo.seen) == ["/images/1", "/images/2", "/images/3"]
    join = task_of(body, "join")["outputData"]
    assert sorted(join) == ["_resize_0", "_resize_1", "_resize_2"]
    for i in range(3):
        assert join[f"_resize_{i}"]["response"]["body"] == {"path": f"/images/{i + 1}"}
        assert task_of(body, f"_resize_{i}")["taskType"] == "HTTP"


def test_a_system_fork_task_type_names_the_branches_when_fork_task_name_is_absent(api, echo):
    inputs = {"forkTaskType": "HTTP", "forkTaskInputs": [{"uri": f"{echo.url}/a"}]}
    register(api, {"name": "fan_http_unnamed", "tasks": _fork(inputs)})
    body = wait_status(api, start(api, "fan_http_unnamed"))
    assert body["status"] == "COMPLETED", body
    assert _response_body(body, "_HTTP_0") == {"path": "/a"}


def test_a_dynamic_fork_of_listed_http_branches(api, echo):
    tasks = [
        {
            "name": "get_a",
            "taskReferenceName": "get_a",
            "type": "HTTP",
            "inputParameters": {"http_request": {"uri": f"{echo.url}/a", "method": "GET"}},
        },
        {"name": "get_b", "taskReferenceName": "get_b", "type": "HTTP"},
        # A SIMPLE branch named for a system type runs as that type, as in Conductor.
        {"name": "HTTP", "taskReferenceName": "get_c"},
    ]
    per_task = {
        "get_b": {"uri": f"{echo.url}/b", "method": "POST", "body": {"x": 1}},
        "get_c": {"uri": f"{echo.url}/c"},
    }
    flow = {
        "name": "fan_http_listed",
        "tasks": _fork(
            {
                "dynamicTasks": "${workflow.input.tasks}",
                "dynamicTasksInput": "${workflow.input.in}",
            },
            dynamicForkTasksParam="dynamicTasks",
            dynamicForkTasksInputParamName="dynamicTasksInput",
        ),
    }
    register(api, flow)
    body = wait_status(api, start(api, "fan_http_listed", {"tasks": tasks, "in": per_task}))
    assert body["status"] == "COMPLETED", body
    assert sorted((s.method, s.path) for s in echo.seen) == [
        ("GET", "/a"),
        ("GET", "/c"),
        ("POST", "/b"),
    ]
    join = task_of(body, "join")["outputData"]
    assert {ref: out["response"]["body"] for ref, out in join.items()} == {
        "get_a": {"path": "/a"},
        "get_b": {"path": "/b"},
        "get_c": {"path": "/c"},
    }


def test_a_dynamic_fork_runs_inline_set_variable_and_jq_branches(api):
    tasks = [
        {
            "name": "double",
            "taskReferenceName": "double",
            "type": "INLINE",
            "inputParameters": {
                "evaluatorType": "graaljs",
                "expression": "$.n * 2",
                "n": "${workflow.input.n}",
            },
        },
        {"name": "remember", "taskReferenceName": "remember", "type": "SET_VARIABLE"},
        {
            "name": "shape",
            "taskReferenceName": "shape",
            "type": "JSON_JQ_TRANSFORM",
            "inputParameters": {"queryExpression": ".items | length"},
        },
    ]
    per_task = {"remember": {"seen": "${workflow.input.n}"}, "shape": {"items": [1, 2, 3]}}
    flow = {
        "name": "fan_system",
        "tasks": _fork(
            {"dynamicTasks": tasks, "dynamicTasksInput": per_task},
            dynamicForkTasksParam="dynamicTasks",
            dynamicForkTasksInputParamName="dynamicTasksInput",
        ),
        "outputParameters": {"seen": "${workflow.variables.seen}"},
    }
    register(api, flow)
    body = wait_status(api, start(api, "fan_system", {"n": 21}))
    assert body["status"] == "COMPLETED", body
    assert task_of(body, "double")["outputData"]["result"] == 42
    assert task_of(body, "shape")["outputData"]["result"] == 3
    assert body["variables"]["seen"] == 21
    assert body["output"] == {"seen": 21}


def test_a_dynamic_fork_by_fork_task_type_runs_inline_branches(api):
    inputs = {
        "forkTaskType": "INLINE",
        "forkTaskInputs": [
            {"evaluatorType": "javascript", "expression": "$.v + 1", "v": 1},
            {"evaluatorType": "javascript", "expression": "$.v + 1", "v": 10},
        ],
    }
    register(api, {"name": "fan_inline", "tasks": _fork(inputs)})
    body = wait_status(api, start(api, "fan_inline"))
    assert body["status"] == "COMPLETED", body
    assert task_of(body, "_INLINE_0")["outputData"]["result"] == 2
    assert task_of(body, "_INLINE_1")["outputData"]["result"] == 11


def test_a_dynamic_fork_by_fork_task_type_runs_lambda_branches(api):
    inputs = {
        "forkTaskType": "LAMBDA",
        "forkTaskInputs": [{"scriptExpression": "return $.v * 2;", "v": v} for v in (1, 10)],
    }
    register(api, {"name": "fan_lambda", "tasks": _fork(inputs)})
    body = wait_status(api, start(api, "fan_lambda"))
    assert body["status"] == "COMPLETED", body
    assert task_of(body, "_LAMBDA_0")["outputData"]["result"] == 2
    assert task_of(body, "_LAMBDA_1")["outputData"]["result"] == 20


@pytest.mark.parametrize("where", ["input", "step"])
def test_an_async_complete_http_task_waits_to_be_completed_through_the_api(api, echo, where):
    inputs: dict[str, Any] = {"uri": f"{echo.url}/jobs", "method": "POST", "body": {}}
    call = _http("call", inputs)
    if where == "input":
        inputs["asyncComplete"] = "true"
    else:
        call["asyncComplete"] = True
    register(api, {"name": "async_http", "tasks": [call]})
    run_id = start(api, "async_http")
    deadline = time.monotonic() + 10
    # Claimed by the HTTP executor, the task is IN_PROGRESS before the call is made; the
    # call's response is recorded after it returns: wait for that.
    while "response" not in task_of(body := run(api, run_id), "call")["outputData"]:
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
    assert body["status"] == "RUNNING"
    waiting = task_of(body, "call")
    assert waiting["status"] == "IN_PROGRESS"
    assert waiting["outputData"]["response"]["body"] == {"path": "/jobs"}
    time.sleep(0.5)  # a few sweeps later the call has still been made once
    assert len(echo.seen) == 1
    assert complete(api, waiting, {"job": "done"}).status_code == 200
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED", body
    assert task_of(body, "call")["outputData"] == {"job": "done"}
    assert len(echo.seen) == 1


def test_a_dynamic_http_branch_never_receives_a_secret(api, echo, monkeypatch):
    monkeypatch.setenv("PODIUM_SECRET_TOKEN", VALUE)
    reference = "Bearer ${workflow.secrets.TOKEN}"
    inputs = {
        "forkTaskType": "HTTP",
        "forkTaskInputs": [{"uri": f"{echo.url}/x", "headers": {"Authorization": reference}}],
    }
    register(api, {"name": "fan_http_secret", "tasks": _fork(inputs)})
    body = wait_status(api, start(api, "fan_http_secret"))
    assert body["status"] == "COMPLETED", body
    [seen] = echo.seen
    assert seen.headers["authorization"] == reference
    assert VALUE not in repr(echo.seen)
