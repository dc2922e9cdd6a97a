"""Configurable limits: payload sizes, fan-out width, loop iterations, sub-workflow depth and
requests per key; and secrets in HTTP tasks, which never reach a run's history."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from tests.behaviour.helpers import poll, register, run, start, task_of, wait_status


@pytest.fixture
def limited(store_choice) -> Iterator[httpx.Client]:
    settings = {
        "max_task_output_bytes": 2_000,
        "max_workflow_input_bytes": 1_000,
        "max_fork_width": 3,
        "max_loop_iterations": 4,
        "max_subworkflow_depth": 2,
        "sweep_interval_s": 0.2,
    }
    with (
        store_choice.server(**settings) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def _one_step(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [{"name": "work", "taskReferenceName": "work", "type": "SIMPLE"}],
    }


def test_too_large_task_output_is_refused_and_the_run_is_unchanged(limited):
    register(limited, _one_step("big_output"))
    run_id = start(limited, "big_output")
    (task,) = poll(limited, "work")
    before = run(limited, run_id)
    response = limited.post(
        "/api/tasks",
        json={
            "taskId": task["taskId"],
            "workflowInstanceId": run_id,
            "status": "COMPLETED",
            "outputData": {"blob": "x" * 5_000},
            "workerId": "w1",
        },
    )
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["field"] == "outputData"
    assert task["taskId"] in body["message"] and "2000" in body["message"]
    after = run(limited, run_id)
    assert after["status"] == "RUNNING"
    assert task_of(after, "work")["status"] == task_of(before, "work")["status"] == "IN_PROGRESS"
    by_ref = limited.post(f"/api/tasks/{run_id}/work/COMPLETED", json={"blob": "x" * 5_000})
    assert by_ref.status_code == 413, by_ref.text
    assert by_ref.json()["field"] == "outputData"
    assert run(limited, run_id)["status"] == "RUNNING"
    small = {"taskId": task["taskId"], "status": "COMPLETED", "outputData": {"ok": 1}}
    assert limited.post("/api/tasks", json={**small, "workerId": "w1"}).status_code == 200
    assert wait_status(limited, run_id)["status"] == "COMPLETED"


def test_too_large_workflow_input_is_refused_and_nothing_starts(limited):
    register(limited, _one_step("big_input"))
    for response in (
        limited.post("/api/workflow/big_input", json={"blob": "y" * 2_000}),
        limited.post("/api/workflow", json={"name": "big_input", "input": {"blob": "y" * 2_000}}),
    ):
        assert response.status_code == 413, response.text
        assert response.json()["field"] == "input"
        assert "big_input" in response.json()["message"]
    found = limited.get("/api/workflow/search", params={"query": "workflowType='big_input'"})
    assert found.json()["totalHits"] == 0
    assert poll(limited, "work", timeout_ms=100) == []


def test_static_fork_wider_than_the_limit_is_refused_at_registration(limited):
    branches = [
        [{"name": "work", "taskReferenceName": f"b{i}", "type": "SIMPLE"}] for i in range(4)
    ]
    wide = {
        "name": "wide",
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": branches,
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": [f"b{i}" for i in range(4)],
            },
        ],
    }
    response = limited.post("/api/metadata/workflow", json=wide)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "forkTasks"
    assert "4 branches" in response.json()["message"]
    assert limited.get("/api/metadata/workflow/wide").status_code == 404
    wide["tasks"][0]["forkTasks"] = branches[:3]
    wide["tasks"][1]["joinOn"] = ["b0", "b1", "b2"]
    assert limited.post("/api/metadata/workflow", json=wide).status_code == 200


def _dynamic_fork(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {
                    "forkTaskName": "work",
                    "forkTaskInputs": "${workflow.input.items}",
                },
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
        ],
    }


def test_dynamic_fork_wider_than_the_limit_fails_with_the_reason(limited):
    register(limited, _dynamic_fork("fan_out"))
    narrow = start(limited, "fan_out", {"items": [1, 2, 3]})
    assert len(poll(limited, "work", count=10)) == 3
    wide = wait_status(limited, start(limited, "fan_out", {"items": [1, 2, 3, 4]}))
    assert wide["status"] == "FAILED"
    fan = task_of(wide, "fan")
    assert fan["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "4 branches" in fan["reasonForIncompletion"]
    assert "PODIUM_MAX_FORK_WIDTH" in wide["reasonForIncompletion"]
    assert poll(limited, "work", timeout_ms=100) == []
    assert run(limited, narrow)["status"] == "RUNNING"


def test_loop_past_the_iteration_limit_fails_with_the_reason(limited):
    loop = {
        "name": "spin",
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "inputParameters": {"until": "${workflow.input.until}"},
                "loopCondition": "$.loop['iteration'] < $.until",
                "loopOver": [{"name": "noop", "taskReferenceName": "step", "type": "NOOP"}],
            }
        ],
    }
    register(limited, loop)
    assert wait_status(limited, start(limited, "spin", {"until": 4}))["status"] == "COMPLETED"
    body = wait_status(limited, start(limited, "spin", {"until": 50}))
    assert body["status"] == "FAILED"
    looped = task_of(body, "loop")
    assert looped["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "iteration 5" in looped["reasonForIncompletion"]
    assert "PODIUM_MAX_LOOP_ITERATIONS" in looped["reasonForIncompletion"]


def test_sub_workflows_nested_past_the_depth_limit_fail_with_the_reason(limited):
    recursive = {
        "name": "nest",
        "tasks": [
            {
                "name": "nest",
                "taskReferenceName": "child",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "nest"},
            }
        ],
    }
    register(limited, recursive)
    top = wait_status(limited, start(limited, "nest"))
    assert top["status"] == "FAILED"
    chain = [top]
    while task_of(chain[-1], "child").get("subWorkflowId"):
        chain.append(run(limited, task_of(chain[-1], "child")["subWorkflowId"]))
    assert len(chain) == 3  # depths 0, 1 and 2; the run at depth 2 may not go deeper
    deepest = task_of(chain[-1], "child")
    assert deepest["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "depth 3" in deepest["reasonForIncompletion"]
    assert "PODIUM_MAX_SUBWORKFLOW_DEPTH" in deepest["reasonForIncompletion"]


def test_requests_past_the_per_key_rate_get_429(store_choice):
    with store_choice.server() as open_server:
        made = httpx.post(f"{open_server.url}/api/keys", json={"roles": ["reader"]}).json()
    header = {"Authorization": f"Bearer {made['keyId']}:{made['keySecret']}"}
    with (
        store_choice.server(auth=True, rate_limit_per_key=1.0) as server,
        httpx.Client(base_url=server.url, headers=header, timeout=30) as client,
    ):
        statuses = [client.get("/api/metadata/workflow").status_code for _ in range(6)]
        assert statuses[0] == 200
        assert 429 in statuses, statuses
        refused = client.get("/api/metadata/workflow")
        assert refused.status_code == 429
        assert refused.headers.get("retry-after")


class _EchoAuth(BaseHTTPRequestHandler):
    """Answers 200 only when the Authorization header carries the expected token."""

    expected = ""

    def do_GET(self) -> None:
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"blob": "' + b"z" * 5_000 + b'"}')
            return
        ok = self.headers.get("Authorization") == f"Bearer {self.expected}"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"authorized": true}' if ok else b'{"authorized": false}')

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo_service() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _EchoAuth)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/check"
    httpd.shutdown()
    httpd.server_close()


def _http_flow(uri: str, secret: str) -> dict[str, Any]:
    request = {
        "uri": uri,
        "method": "GET",
        "headers": {"Authorization": "Bearer ${workflow.secrets." + secret + "}"},
    }
    return {
        "name": f"call_{secret.lower()}",
        "tasks": [
            {
                "name": "call",
                "taskReferenceName": "call",
                "type": "HTTP",
                "inputParameters": {"http_request": request},
            }
        ],
    }


def test_http_task_secrets_are_resolved_at_call_time_and_never_stored(
    store_choice, echo_service, monkeypatch, caplog, tmp_path
):
    value = "s3cr3t-value-0451"
    _EchoAuth.expected = value
    monkeypatch.setenv("PODIUM_SECRET_BILLING_TOKEN", value)
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text('{"FILED": "' + value + '"}')
    caplog.set_level(logging.DEBUG)
    with (
        store_choice.server(secrets_file=str(secrets_file)) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        for secret in ("BILLING_TOKEN", "FILED", "NOWHERE"):
            register(api, _http_flow(echo_service, secret))
        from_env = wait_status(api, start(api, "call_billing_token"))
        from_file = wait_status(api, start(api, "call_filed"))
        missing = wait_status(api, start(api, "call_nowhere"))
        for body in (from_env, from_file):
            assert body["status"] == "COMPLETED", body
            assert task_of(body, "call")["outputData"]["response"]["body"] == {"authorized": True}
        assert missing["status"] == "FAILED"
        reason = task_of(missing, "call")["reasonForIncompletion"]
        assert "secret 'NOWHERE'" in reason and "PODIUM_SECRET_NOWHERE" in reason
        stored = api.get(f"/api/workflow/{from_env['workflowId']}").text
        assert "${workflow.secrets.BILLING_TOKEN}" in stored
        for run_id in (from_env["workflowId"], from_file["workflowId"], missing["workflowId"]):
            assert value not in api.get(f"/api/workflow/{run_id}").text
    assert value not in caplog.text
    for table in ("runs", "tasks"):  # a run's header, and each of its tasks
        for row in store_choice.query(f"SELECT * FROM {table}"):
            assert value not in repr(row)


def test_an_http_response_over_the_output_limit_fails_the_task_unstored(limited, echo_service):
    flow = _http_flow(echo_service.replace("/check", "/big"), "UNUSED")
    del flow["tasks"][0]["inputParameters"]["http_request"]["headers"]
    register(limited, flow)
    body = wait_status(limited, start(limited, flow["name"]))
    assert body["status"] == "FAILED"
    call = task_of(body, "call")
    assert "PODIUM_MAX_TASK_OUTPUT_BYTES" in call["reasonForIncompletion"]
    assert "zzzz" not in limited.get(f"/api/workflow/{body['workflowId']}").text
