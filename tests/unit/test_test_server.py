"""``PodiumTestServer``'s own knobs: what it records, the faults it injects, its restarts, and
how a worker lives through them."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from podium.testing import PodiumTestServer, RecordedRequest
from podium.worker import WorkerRunner, worker_task

BATCH = "/api/tasks/update-batch"
FLOW = {
    "name": "ts_flow",
    "version": 1,
    "tasks": [
        {
            "name": "ts_echo",
            "taskReferenceName": "echo_ref",
            "inputParameters": {"word": "${workflow.input.word}"},
        }
    ],
    "outputParameters": {"said": "${echo_ref.output.result}"},
}


@worker_task("ts_echo")
def echo(word: str) -> str:
    return word


@pytest.fixture(scope="module")
def shared_server() -> Iterator[PodiumTestServer]:
    with PodiumTestServer() as server:
        yield server


@pytest.fixture
def server(shared_server: PodiumTestServer) -> PodiumTestServer:
    shared_server.reset()
    return shared_server


def run_worker(server: PodiumTestServer) -> None:
    WorkerRunner(server.url, [echo], poll_timeout_ms=20).run(burst=True)


def test_requests_are_recorded_but_for_the_helpers_own(server: PodiumTestServer) -> None:
    server.register(FLOW)
    run_id = server.start_run("ts_flow", {"word": "hi"})
    assert server.requests == []  # the helpers' calls are not the code under test's
    httpx.post(f"{server.url}/api/workflow/ts_flow", json={"word": "yo"}, params={"x": "1"})
    assert server.requests == [RecordedRequest("POST", "/api/workflow/ts_flow", {"word": "yo"})]
    run_worker(server)
    assert server.wait(run_id)["output"] == {"said": "hi"}
    posted = [result for r in server.requests if r.path == BATCH for result in r.results]
    assert [result["status"] for result in posted] == ["COMPLETED", "COMPLETED"]
    assert server.results() == posted  # the two runs' tasks
    server.reset()
    assert server.requests == [] and server.results() == []


def test_fail_next_answers_without_handling(server: PodiumTestServer) -> None:
    server.fail_next("POST", "/api/metadata/*", 503, times=2, code="E_STORE")
    for _ in range(2):
        answer = httpx.post(f"{server.url}/api/metadata/workflow", json={**FLOW, "name": "ts_x"})
        assert answer.status_code == 503
        assert answer.json()["code"] == "E_STORE"
    assert server.client.get("/api/metadata/workflow/ts_x").status_code == 404
    answer = httpx.post(f"{server.url}/api/metadata/workflow", json={**FLOW, "name": "ts_x"})
    assert answer.status_code == 200
    assert server.client.get("/api/metadata/workflow/ts_x").status_code == 200


def test_a_standing_fault_lasts_until_cleared(server: PodiumTestServer) -> None:
    server.fail_next("*", "/api/health", 404, times=None)
    assert [httpx.get(f"{server.url}/api/health").status_code for _ in range(3)] == [404] * 3
    server.clear_faults()
    assert httpx.get(f"{server.url}/api/health").status_code == 200


def test_delay_next_holds_the_request_then_handles_it(server: PodiumTestServer) -> None:
    server.delay_next("GET", "/api/health", 0.3)
    started = time.monotonic()
    assert httpx.get(f"{server.url}/api/health").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    httpx.get(f"{server.url}/api/health")
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("after_handling", [False, True])
def test_drop_next_cuts_the_connection(server: PodiumTestServer, after_handling: bool) -> None:
    name = f"ts_dropped_{after_handling}"
    server.drop_next("POST", "/api/metadata/workflow", after_handling=after_handling)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{server.url}/api/metadata/workflow", json={**FLOW, "name": name})
    # Before handling nothing was done; after, the work was committed and only the answer lost.
    found = server.client.get(f"/api/metadata/workflow/{name}").status_code
    assert found == (200 if after_handling else 404)


def test_a_result_cut_off_before_the_server_read_it_is_posted_again(
    server: PodiumTestServer,
) -> None:
    server.register(FLOW)
    run_id = server.start_run("ts_flow", {"word": "again"})
    server.drop_next("POST", BATCH)
    run_worker(server)
    assert server.wait(run_id)["output"] == {"said": "again"}
    assert sum(r.path == BATCH for r in server.requests) == 2


def test_a_result_whose_answer_was_lost_is_recorded_once(
    server: PodiumTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.register(FLOW)
    run_id = server.start_run("ts_flow", {"word": "once"})
    server.drop_next("POST", BATCH, after_handling=True)
    with caplog.at_level(logging.INFO, logger="podium.worker"):
        run_worker(server)
    run = server.wait(run_id)
    assert run["output"] == {"said": "once"}
    # The worker posted again; the server had the result already and the run moved on once.
    assert sum(r.path == BATCH for r in server.requests) == 2
    assert [t["status"] for t in run["tasks"]] == ["COMPLETED"]


def test_a_restart_keeps_the_port_and_the_runs(tmp_path: Path) -> None:
    server = PodiumTestServer(tmp_path / "kept.db")
    with server:
        server.register(FLOW)
        run_id = server.start_run("ts_flow", {"word": "kept"})
        url = server.url
        server.stop()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/api/health")
        server.start()
        assert server.url == url
        assert server.run(run_id)["status"] == "RUNNING"
        run_worker(server)
        assert server.wait(run_id)["output"] == {"said": "kept"}
    assert (tmp_path / "kept.db").exists()  # a store it was given is left in place


def test_the_default_store_is_a_temporary_one_removed_at_exit() -> None:
    with PodiumTestServer() as server:
        database = Path(server.settings.database)
        assert database.exists()
    assert not database.parent.exists()
    with pytest.raises(RuntimeError, match="not running"):
        server.task("t-1")


def test_the_readme_worker_test_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    found = re.search(r"To test a worker.*?```python\n(.*?)```", readme, re.S)
    assert found, "README has no worker test"
    # ``greeter.py`` is the README's worker, kept in examples/greet.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "examples" / "greet"))
    monkeypatch.delitem(sys.modules, "greeter", raising=False)
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), "README.md", "exec"), namespace)
    namespace["test_hello"]()


def test_a_helper_refused_says_why(server: PodiumTestServer) -> None:
    with pytest.raises(httpx.HTTPStatusError, match=r"HTTP 404: .*E_WORKFLOW_NOT_FOUND"):
        server.run("no-such-run")
