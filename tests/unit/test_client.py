"""``PodiumClient`` against the real server (``PodiumTestServer``), and its error handling
against canned answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import podium.client
from podium.client import PodiumClient, PodiumClientError, PodiumUnreachableError
from podium.errors import PodiumError
from podium.testing import PodiumTestServer
from podium.worker import WorkerRunner, worker_task

FLOW = {
    "name": "cl_flow",
    "version": 1,
    "tasks": [
        {
            "name": "cl_double",
            "taskReferenceName": "double_ref",
            "type": "SIMPLE",
            "inputParameters": {"n": "${workflow.input.n}"},
        },
        {"name": "approve", "taskReferenceName": "approval", "type": "WAIT"},
    ],
    "outputParameters": {"doubled": "${double_ref.output.result}", "by": "${approval.output.by}"},
}


@worker_task("cl_double")
def double(n: int) -> int:
    return n * 2


@pytest.fixture(scope="module")
def shared_server() -> Iterator[PodiumTestServer]:
    with PodiumTestServer() as server:
        yield server


@pytest.fixture
def server(shared_server: PodiumTestServer) -> PodiumTestServer:
    shared_server.reset()
    return shared_server


@pytest.fixture
def client(server: PodiumTestServer) -> Iterator[PodiumClient]:
    with PodiumClient(server.url + "/api") as c:
        yield c


def test_exports() -> None:
    assert set(podium.client.__all__) >= {"PodiumClient", "PodiumClientError"}
    for name in podium.client.__all__:
        assert getattr(podium.client, name) is not None


def test_metadata_round_trip(client: PodiumClient) -> None:
    assert client.health()["status"] == "ok"
    client.register_task_defs([{"name": "cl_double", "retryCount": 2}])
    client.register_workflow(FLOW)
    assert client.get_workflow_def("cl_flow")["tasks"][0]["name"] == "cl_double"
    assert client.get_workflow_def("cl_flow", version=1)["version"] == 1
    [listed] = [d for d in client.list_task_defs() if d["name"] == "cl_double"]
    assert listed["retryCount"] == 2
    client.update_workflows([{**FLOW, "version": 2}])
    versions = [d["version"] for d in client.list_workflow_defs() if d["name"] == "cl_flow"]
    assert sorted(versions) == [1, 2]


def test_a_run_from_start_to_signal(server: PodiumTestServer, client: PodiumClient) -> None:
    client.register_workflow(FLOW)
    run_id = client.start_workflow("cl_flow", {"n": 21}, correlation_id="order-7")
    WorkerRunner(server.url, [double], poll_timeout_ms=20).run(burst=True)
    run = client.get_workflow(run_id)
    assert run["status"] == "RUNNING"
    assert [t["status"] for t in run["tasks"]] == ["COMPLETED", "IN_PROGRESS"]
    assert "tasks" not in client.get_workflow(run_id, include_tasks=False)

    seen: list[str] = []
    with pytest.raises(TimeoutError, match="still RUNNING"):
        client.wait_for(
            run_id, timeout=0.05, poll_interval=0.01, on_poll=lambda r: seen.append(r["status"])
        )
    assert seen and set(seen) == {"RUNNING"}

    client.signal(run_id, "approval", output={"by": "ann"})
    done = client.wait_for(run_id, timeout=5, poll_interval=0.01)
    assert done["status"] == "COMPLETED"
    assert done["output"] == {"doubled": 42, "by": "ann"}

    found = client.search(correlation_id="order-7")
    assert found["totalHits"] == 1
    assert found["results"][0]["workflowId"] == run_id
    assert client.search(status="FAILED")["results"] == []


def test_idempotency_key_starts_one_run(client: PodiumClient) -> None:
    client.register_workflow(FLOW)
    first = client.start_workflow("cl_flow", {"n": 1}, idempotency_key="k-1")
    assert client.start_workflow("cl_flow", {"n": 1}, idempotency_key="k-1") == first
    assert client.start_workflow("cl_flow", {"n": 1}) != first


def test_run_controls(server: PodiumTestServer, client: PodiumClient) -> None:
    client.register_workflow(FLOW)
    run_id = client.start_workflow("cl_flow", {"n": 1})
    client.pause(run_id)
    assert client.get_workflow(run_id)["status"] == "PAUSED"
    client.resume(run_id)
    client.terminate(run_id, reason="customer cancelled")
    run = client.get_workflow(run_id)
    assert (run["status"], run["reasonForIncompletion"]) == ("TERMINATED", "customer cancelled")
    client.restart(run_id)
    assert client.get_workflow(run_id)["status"] == "RUNNING"
    client.terminate(run_id)
    client.retry(run_id)
    assert client.get_workflow(run_id)["status"] == "RUNNING"
    routes = [(r.method, r.path) for r in server.requests]
    assert ("DELETE", f"/api/workflow/{run_id}") in routes
    assert ("PUT", f"/api/workflow/{run_id}/pause") in routes


def test_server_errors_carry_code_and_service(client: PodiumClient) -> None:
    with pytest.raises(PodiumClientError) as caught:
        client.get_workflow("missing")
    err = caught.value
    assert isinstance(err, PodiumError)
    assert (err.status, err.code, err.service) == (404, "E_WORKFLOW_NOT_FOUND", "server")
    assert str(err) == "HTTP 404 E_WORKFLOW_NOT_FOUND from server: no workflow run has id missing"

    client.register_workflow(FLOW)
    run_id = client.start_workflow("cl_flow")
    with pytest.raises(PodiumClientError, match="E_RUN_STATUS") as conflict:
        client.resume(run_id)
    assert conflict.value.status == 409


def test_unreachable_server() -> None:
    with (
        PodiumClient("http://127.0.0.1:1", timeout=2) as c,
        pytest.raises(PodiumUnreachableError) as caught,
    ):
        c.health()
    assert "the server at http://127.0.0.1:1 is not reachable" in str(caught.value)
    assert caught.value.code == "E_UNREACHABLE"


def canned(status: int, **kwargs: Any) -> PodiumClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, **kwargs)

    return PodiumClient("http://podium.test", transport=httpx.MockTransport(answer))


def test_errors_that_are_not_podium_shaped_are_still_readable() -> None:
    with pytest.raises(PodiumClientError) as caught:
        canned(404, json={"detail": "Not Found"}).get_workflow("x")
    assert caught.value.code == "E_HTTP_404"
    assert "GET /api/workflow/x: Not Found" in str(caught.value)
    with pytest.raises(PodiumClientError, match="bad gateway"):
        canned(502, text="<html>bad gateway</html>").health()


def test_ids_as_plain_text_or_json_string() -> None:
    assert canned(200, text="wf-1\n").start_workflow("x") == "wf-1"
    assert canned(200, json="wf-2").start_workflow("x") == "wf-2"


def test_every_write_sends_a_json_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    c = PodiumClient("http://podium.test/", transport=httpx.MockTransport(answer))
    c.pause("w 1")
    c.restart("w", use_latest_definitions=True)
    c.register_workflow(FLOW, overwrite=False)
    assert seen[0].url.raw_path == b"/api/workflow/w%201/pause"
    assert seen[0].content == b"{}"
    assert seen[1].url.params["useLatestDefinitions"] == "true"
    assert seen[2].url.params["overwrite"] == "false"
