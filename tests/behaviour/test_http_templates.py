"""HTTP requests Conductor accepts that Podium refused: ``http_request`` written as a
``${...}`` expression, and a request (or any input) from the TaskDef's ``inputTemplate``,
which every task of the type gets under its step's own inputParameters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status
from tests.behaviour.http_services import EchoService, echo_service


@pytest.fixture
def echo() -> Iterator[EchoService]:
    with echo_service() as service:
        yield service


def _http(ref: str, inputs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "HTTP",
        "inputParameters": inputs,
        **fields,
    }


def test_http_request_may_be_an_expression(api, echo):
    flow = {
        "name": "http_expr",
        "tasks": [_http("call", {"http_request": "${workflow.input.req}"})],
    }
    register(api, flow)
    request = {"uri": f"{echo.url}/from-input", "method": "POST", "body": {"n": 1}}
    body = wait_status(api, start(api, "http_expr", {"req": request}))
    assert body["status"] == "COMPLETED", body
    [seen] = echo.seen
    assert (seen.method, seen.path, json.loads(seen.body)) == ("POST", "/from-input", {"n": 1})
    # What the expression gives is checked when the task runs: not a request, the task fails.
    failed = wait_status(api, start(api, "http_expr", {"req": "nope"}))
    assert failed["status"] == "FAILED"
    assert task_of(failed, "call")["reasonForIncompletion"]


def test_a_taskdefs_input_template_gives_an_http_task_its_request(api, echo):
    template = {
        "http_request": {"uri": f"{echo.url}/templated/${{workflow.input.id}}", "method": "GET"},
        "note": "from the template",
    }
    api.post(
        "/api/metadata/taskdefs",
        json=[{"name": "tcall", "retryCount": 0, "inputTemplate": template}],
    )
    flow = {"name": "http_tmpl", "tasks": [_http("tcall", {"note": "from the step"})]}
    register(api, flow)
    body = wait_status(api, start(api, "http_tmpl", {"id": "o-3"}))
    assert body["status"] == "COMPLETED", body
    assert [s.path for s in echo.seen] == ["/templated/o-3"]
    assert task_of(body, "tcall")["inputData"]["note"] == "from the step"  # the step wins
    assert api.get("/api/metadata/taskdefs/tcall").json()["inputTemplate"] == template
    # Without the template the same step has no request, and is refused naming the field.
    bare = api.post(
        "/api/metadata/workflow", json={"name": "http_bare", "tasks": [_http("other", {})]}
    )
    assert bare.status_code == 400
    assert bare.json()["field"] == "tasks[0].inputParameters.http_request.uri"
    checked = api.post("/api/metadata/workflow/validate", json=flow)
    assert checked.status_code == 200, checked.text


def test_an_embedded_taskdefinitions_template_counts_too(api, echo):
    embedded = {"name": "e", "inputTemplate": {"http_request": {"uri": f"{echo.url}/embedded"}}}
    flow = {"name": "http_embedded", "tasks": [_http("e", {}, taskDefinition=embedded)]}
    register(api, flow)
    assert wait_status(api, start(api, "http_embedded"))["status"] == "COMPLETED"
    assert [s.path for s in echo.seen] == ["/embedded"]


def test_a_worker_task_gets_its_taskdefs_input_template(api):
    api.post(
        "/api/metadata/taskdefs",
        json=[
            {"name": "tmpl_w", "inputTemplate": {"region": "eu", "who": "${workflow.input.who}"}}
        ],
    )
    step = {"name": "tmpl_w", "taskReferenceName": "w", "inputParameters": {"region": "us"}}
    register(api, {"name": "tmpl_flow", "tasks": [step]})
    run_id = start(api, "tmpl_flow", {"who": "ana"})
    [task] = poll(api, "tmpl_w")
    assert task["inputData"] == {"region": "us", "who": "ana"}
    complete(api, task)
    assert wait_status(api, run_id)["status"] == "COMPLETED"
