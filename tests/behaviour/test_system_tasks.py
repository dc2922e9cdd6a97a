"""The task types the server runs itself, end to end through the API."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status


def _step(ref, name=None, **extra):
    return {"name": name or ref, "taskReferenceName": ref, **extra}


def test_switch_value_param_and_javascript(api):
    flow = {
        "name": "route",
        "tasks": [
            _step(
                "kind",
                type="SWITCH",
                evaluatorType="value-param",
                expression="k",
                inputParameters={"k": "${workflow.input.kind}"},
                decisionCases={
                    "express": [
                        _step("fast", type="SET_VARIABLE", inputParameters={"lane": "fast"})
                    ]
                },
                defaultCase=[_step("slow", type="SET_VARIABLE", inputParameters={"lane": "slow"})],
            ),
            _step(
                "size",
                type="SWITCH",
                evaluatorType="javascript",
                expression="$.total > 100 ? 'big' : 'small'",
                inputParameters={"total": "${workflow.input.total}"},
                decisionCases={
                    "big": [_step("review", type="SET_VARIABLE", inputParameters={"review": True})]
                },
            ),
        ],
        "outputParameters": {
            "lane": "${workflow.variables.lane}",
            "review": "${workflow.variables.review}",
        },
    }
    register(api, flow)
    express = wait_status(api, start(api, "route", {"kind": "express", "total": 500}))
    assert express["status"] == "COMPLETED"
    assert express["output"] == {"lane": "fast", "review": True}
    assert task_of(express, "size")["outputData"]["evaluationResult"] == ["big"]
    normal = wait_status(api, start(api, "route", {"kind": "normal", "total": 5}))
    assert normal["output"] == {"lane": "slow", "review": None}
    assert [t["referenceTaskName"] for t in normal["tasks"]] == ["kind", "slow", "size"]


def test_fork_join_runs_branches_in_parallel_and_joins_outputs(api):
    flow = {
        "name": "fan",
        "tasks": [
            _step(
                "fork",
                type="FORK_JOIN",
                forkTasks=[[_step("left", name="side")], [_step("right", name="side")]],
            ),
            _step("join", type="JOIN", joinOn=["left", "right"]),
            _step("after", inputParameters={"both": "${join.output}"}),
        ],
    }
    register(api, flow, [{"name": "side", "retryCount": 0}, {"name": "after", "retryCount": 0}])
    run_id = start(api, "fan")
    branches = poll(api, "side", count=2)
    assert sorted(t["referenceTaskName"] for t in branches) == ["left", "right"]
    for task in branches:
        complete(api, task, {"from": task["referenceTaskName"]})
    [after] = poll(api, "after")
    assert after["inputData"] == {"both": {"left": {"from": "left"}, "right": {"from": "right"}}}
    complete(api, after, {"done": True})
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_a_failed_branch_fails_the_run_and_cancels_the_other(api):
    flow = {
        "name": "fan_fail",
        "tasks": [
            _step(
                "fork",
                type="FORK_JOIN",
                forkTasks=[[_step("left", name="side")], [_step("right", name="side")]],
            ),
            _step("join", type="JOIN", joinOn=["left", "right"]),
        ],
    }
    register(api, flow, [{"name": "side", "retryCount": 0}])
    run_id = start(api, "fan_fail")
    left = next(t for t in poll(api, "side", count=2) if t["referenceTaskName"] == "left")
    complete(api, left, status="FAILED", reason="stock service down")
    body = wait_status(api, run_id)
    assert body["status"] == "FAILED"
    assert task_of(body, "right")["status"] == "CANCELED"
    assert task_of(body, "join")["status"] == "CANCELED"


def test_sub_workflow_runs_a_child_and_returns_its_output(api):
    child = {
        "name": "child",
        "tasks": [_step("inner")],
        "outputParameters": {"got": "${inner.output.v}"},
    }
    parent = {
        "name": "parent",
        "tasks": [
            _step(
                "sub",
                type="SUB_WORKFLOW",
                subWorkflowParam={"name": "child", "version": 1},
                inputParameters={"x": "${workflow.input.x}"},
            )
        ],
        "outputParameters": {"fromChild": "${sub.output.got}"},
    }
    register(api, child, [{"name": "inner", "retryCount": 0}])
    register(api, parent)
    run_id = start(api, "parent", {"x": 4}, correlationId="corr-9")
    [inner] = poll(api, "inner")
    child_run = run(api, inner["workflowInstanceId"])
    assert child_run["parentWorkflowId"] == run_id
    assert child_run["input"] == {"x": 4}
    assert child_run["correlationId"] == "corr-9"
    complete(api, inner, {"v": "hello"})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"fromChild": "hello"}
    assert task_of(body, "sub")["subWorkflowId"] == inner["workflowInstanceId"]


def test_terminating_a_parent_terminates_its_child(api):
    register(
        api, {"name": "child", "tasks": [_step("inner")]}, [{"name": "inner", "retryCount": 0}]
    )
    register(
        api,
        {
            "name": "parent",
            "tasks": [_step("sub", type="SUB_WORKFLOW", subWorkflowParam={"name": "child"})],
        },
    )
    run_id = start(api, "parent")
    child_id = task_of(run(api, run_id), "sub")["subWorkflowId"]
    api.delete(f"/api/workflow/{run_id}")
    assert run(api, child_id)["status"] == "TERMINATED"


def test_wait_for_a_duration(api):
    register(
        api,
        {"name": "nap", "tasks": [_step("pause", type="WAIT", inputParameters={"duration": "1s"})]},
    )
    began = time.monotonic()
    run_id = start(api, "nap")
    body = wait_status(api, run_id, timeout=10)
    assert body["status"] == "COMPLETED"
    assert time.monotonic() - began >= 0.9


def test_wait_until_signalled(api):
    register(
        api,
        {
            "name": "approve",
            "tasks": [
                _step("approval", type="WAIT"),
                _step("done", type="SET_VARIABLE", inputParameters={"by": "${approval.output.by}"}),
            ],
            "outputParameters": {"by": "${workflow.variables.by}"},
        },
    )
    run_id = start(api, "approve")
    time.sleep(0.2)
    assert run(api, run_id)["status"] == "RUNNING"
    response = api.post(f"/api/tasks/{run_id}/approval/COMPLETED", json={"by": "alice"})
    assert response.status_code == 200
    body = wait_status(api, run_id)
    assert body["output"] == {"by": "alice"}
    again = api.post(f"/api/tasks/{run_id}/approval/COMPLETED", json={"by": "bob"})
    assert again.status_code == 409
    assert api.post(f"/api/tasks/{run_id}/ghost/COMPLETED", json={}).status_code == 404


def test_terminate_task_ends_the_run_with_its_output(api):
    flow = {
        "name": "stop",
        "tasks": [
            _step(
                "end",
                type="TERMINATE",
                inputParameters={
                    "terminationStatus": "FAILED",
                    "terminationReason": "no stock",
                    "workflowOutput": {"code": 7},
                },
            ),
            _step("never"),
        ],
    }
    register(api, flow)
    body = wait_status(api, start(api, "stop"))
    assert body["status"] == "FAILED"
    assert body["reasonForIncompletion"] == "no stock"
    assert body["output"] == {"code": 7}
    assert [t["referenceTaskName"] for t in body["tasks"]] == ["end"]


def test_optional_task_failure_does_not_fail_the_run(api):
    flow = {
        "name": "opt",
        "tasks": [
            _step("maybe", optional=True),
            _step("then", type="SET_VARIABLE", inputParameters={"ok": True}),
        ],
    }
    register(api, flow, [{"name": "maybe", "retryCount": 0}])
    run_id = start(api, "opt")
    [task] = poll(api, "maybe")
    complete(api, task, status="FAILED", reason="recommendations down")
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "maybe")["status"] == "COMPLETED_WITH_ERRORS"


def test_workflow_timeout_times_the_run_out(api):
    flow = {
        "name": "slow",
        "timeoutSeconds": 1,
        "timeoutPolicy": "TIME_OUT_WF",
        "tasks": [_step("never_done")],
    }
    register(api, flow, [{"name": "never_done", "retryCount": 0}])
    body = wait_status(api, start(api, "slow"), timeout=10)
    assert body["status"] == "TIMED_OUT"
    assert task_of(body, "never_done")["status"] == "CANCELED"


def test_task_timeout_retries_then_times_the_run_out(api):
    register(
        api,
        {"name": "tto", "tasks": [_step("stuck")]},
        [
            {
                "name": "stuck",
                "retryCount": 1,
                "retryDelaySeconds": 0,
                "timeoutSeconds": 1,
                "timeoutPolicy": "RETRY",
            }
        ],
    )
    body = wait_status(api, start(api, "tto"), timeout=10)
    assert body["status"] == "TIMED_OUT"  # as Conductor ends it when the retries run out
    assert [t["status"] for t in body["tasks"]] == ["TIMED_OUT", "TIMED_OUT"]


def test_failure_workflow_starts_when_a_run_fails(api):
    register(
        api,
        {
            "name": "on_fail",
            "tasks": [
                _step(
                    "note",
                    type="SET_VARIABLE",
                    inputParameters={"id": "${workflow.input.workflowId}"},
                )
            ],
        },
    )
    register(
        api,
        {"name": "fragile", "failureWorkflow": "on_fail", "tasks": [_step("f")]},
        [{"name": "f", "retryCount": 0}],
    )
    run_id = start(api, "fragile", correlationId="cf")
    [task] = poll(api, "f")
    complete(api, task, status="FAILED", reason="bad")
    wait_status(api, run_id)
    found = api.get("/api/workflow/search", params={"name": "on_fail"}).json()["results"]
    assert len(found) == 1
    assert found[0]["input"]["workflowId"] == run_id


class _Shipping(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        status = 201 if body.get("address") else 422
        payload = (
            {"tracking": f"T-{body.get('orderId')}", "header": self.headers.get("X-Order")}
            if status == 201
            else {"error": "address missing"}
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def shipping():
    server = HTTPServer(("127.0.0.1", 0), _Shipping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_task_calls_the_service_and_keeps_the_response(api, shipping):
    flow = {
        "name": "ship",
        "tasks": [
            _step(
                "call",
                type="HTTP",
                inputParameters={
                    "http_request": {
                        "uri": "${workflow.input.url}/shipments",
                        "method": "POST",
                        "headers": {"X-Order": "${workflow.input.orderId}"},
                        "body": {
                            "orderId": "${workflow.input.orderId}",
                            "address": "${workflow.input.address}",
                        },
                    }
                },
            )
        ],
        "outputParameters": {
            "tracking": "${call.output.response.body.tracking}",
            "code": "${call.output.response.statusCode}",
        },
    }
    register(api, flow)
    ok = wait_status(
        api, start(api, "ship", {"url": shipping, "orderId": "o1", "address": "1 Main St"})
    )
    assert ok["status"] == "COMPLETED", ok
    assert ok["output"] == {"tracking": "T-o1", "code": 201}
    bad = wait_status(api, start(api, "ship", {"url": shipping, "orderId": "o2", "address": ""}))
    assert bad["status"] == "FAILED"
    assert "422" in bad["reasonForIncompletion"]
    assert task_of(bad, "call")["outputData"]["response"]["body"] == {"error": "address missing"}


def test_a_child_that_ends_at_once_lets_the_parent_go_on(api):
    register(
        api,
        {"name": "instant", "tasks": [_step("v", type="SET_VARIABLE", inputParameters={"x": 1})]},
    )
    register(
        api,
        {
            "name": "outer",
            "tasks": [
                _step("sub", type="SUB_WORKFLOW", subWorkflowParam={"name": "instant"}),
                _step("next_step"),
            ],
        },
        [{"name": "next_step", "retryCount": 0}],
    )
    run_id = start(api, "outer")
    [task] = poll(api, "next_step")
    assert task["workflowInstanceId"] == run_id
    complete(api, task, {"ok": True})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "sub")["status"] == "COMPLETED"


def test_http_task_to_an_unreachable_service_fails_with_the_reason(api, shipping):
    from podium.testing import free_port

    flow = {
        "name": "nowhere",
        "tasks": [
            _step(
                "call",
                type="HTTP",
                inputParameters={
                    "http_request": {
                        "uri": f"http://127.0.0.1:{free_port()}/x",
                        "connectionTimeOut": 500,
                    }
                },
            )
        ],
    }
    register(api, flow)
    body = wait_status(api, start(api, "nowhere"))
    assert body["status"] == "FAILED"
    assert "HTTP GET http://127.0.0.1:" in body["reasonForIncompletion"]
    ok = {
        "name": "headers",
        "tasks": [
            _step(
                "call",
                type="HTTP",
                inputParameters={
                    "http_request": {
                        "uri": f"{shipping}/shipments",
                        "method": "POST",
                        "body": {"address": "a"},
                    }
                },
            )
        ],
    }
    register(api, ok)
    done = wait_status(api, start(api, "headers"))
    headers = task_of(done, "call")["outputData"]["response"]["headers"]
    assert headers["Content-Type"] == "application/json"
