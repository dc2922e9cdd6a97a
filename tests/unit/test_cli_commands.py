"""The ``podium`` command against the real server (``PodiumTestServer``), through typer's
``CliRunner``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.cli import app
from podium.settings import Settings
from podium.testing import PodiumTestServer, free_port
from podium.worker import WorkerRunner, worker_task

REPO = Path(__file__).resolve().parents[2]
FLOW = {
    "name": "cli_flow",
    "version": 3,
    "tasks": [
        {
            "name": "cli_greet",
            "taskReferenceName": "greet_ref",
            "inputParameters": {"who": "${workflow.input.who}"},
        }
    ],
    "outputParameters": {"greeting": "${greet_ref.output.result}"},
}


@worker_task("cli_greet")
def greet(who: str) -> str:
    if who == "nobody":
        raise ValueError("nobody to greet")
    return f"hello {who}"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[PodiumTestServer]:
    with PodiumTestServer() as server:
        yield server


@pytest.fixture
def server(shared_server: PodiumTestServer, monkeypatch: pytest.MonkeyPatch) -> PodiumTestServer:
    shared_server.reset()
    monkeypatch.setenv("PODIUM_SERVER", shared_server.url)
    return shared_server


@pytest.fixture
def registered(server: PodiumTestServer) -> PodiumTestServer:
    # A failed greeting ends its run at once rather than retrying in a minute.
    server.register_task_defs({"name": "cli_greet", "retryCount": 0})
    server.register(FLOW)
    return server


@pytest.fixture
def running_worker(registered: PodiumTestServer) -> Iterator[WorkerRunner]:
    worker = WorkerRunner(registered.url, [greet], poll_timeout_ms=50)
    thread = threading.Thread(target=worker.run)
    thread.start()
    yield worker
    worker.stop()
    thread.join(5)


def podium(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_register_task_defs_first_then_workflows(server: PodiumTestServer, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"taskDefs": [{"name": "cli_greet"}], "workflows": [FLOW]}))
    single = tmp_path / "flow.json"
    single.write_text(json.dumps({**FLOW, "name": "cli_other", "version": 1}))
    defs = tmp_path / "defs.json"
    defs.write_text(json.dumps([{"name": "cli_extra", "retryCount": 1}]))

    result = podium("register", str(bundle), str(single), str(defs))
    assert result.exit_code == 0, result.output
    assert "registered task cli_greet" in result.stdout
    assert "registered workflow cli_flow v3" in result.stdout
    assert "registered workflow cli_other v1" in result.stdout
    posts = [r.path for r in server.requests if r.method == "POST"]
    assert posts == ["/api/metadata/taskdefs"] + ["/api/metadata/workflow"] * 2
    defs = {d["name"] for d in server.client.get("/api/metadata/taskdefs").json()}
    assert defs >= {"cli_greet", "cli_extra"}

    as_json = json.loads(podium("register", str(single), "--json").stdout)
    assert as_json == {
        "taskDefs": [],
        "workflows": [{"name": "cli_other", "version": 1}],
        "warnings": [],  # this server sends none, as Conductor's does not
    }


def test_register_rejects_a_file_that_is_no_definition(
    server: PodiumTestServer, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    result = podium("register", str(bad))
    assert result.exit_code == 2
    assert "expected a workflow definition" in result.stderr


def test_start_prints_the_id(registered: PodiumTestServer) -> None:
    result = podium("start", "cli_flow", "--input", '{"who": "ann"}', "--correlation-id", "c-1")
    assert result.exit_code == 0, result.output
    run_id = result.stdout.strip()
    run = registered.run(run_id)
    assert run["input"] == {"who": "ann"}
    assert (run["correlationId"], run["workflowVersion"]) == ("c-1", 3)
    ids = {
        json.loads(podium("start", "cli_flow", "--idempotency-key", "k", "--json").stdout)[
            "workflowId"
        ]
        for _ in range(2)
    }
    assert len(ids) == 1


def test_start_wait_prints_the_result(running_worker: WorkerRunner, tmp_path: Path) -> None:
    payload = tmp_path / "input.json"
    payload.write_text('{"who": "bob"}')
    result = podium("start", "cli_flow", "--input", f"@{payload}", "--wait", "--timeout", "10")
    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.stdout
    assert '"greeting": "hello bob"' in result.stdout

    as_json = podium("start", "cli_flow", "-i", '{"who": "cy"}', "--wait", "--json")
    assert json.loads(as_json.stdout)["output"] == {"greeting": "hello cy"}


def test_start_wait_exits_non_zero_when_the_run_fails(running_worker: WorkerRunner) -> None:
    result = podium("start", "cli_flow", "--input", '{"who": "nobody"}', "--wait")
    assert result.exit_code == 1
    assert "FAILED" in result.stdout
    assert "ValueError: nobody to greet" in result.stdout


def test_start_wait_times_out(registered: PodiumTestServer) -> None:
    result = podium("start", "cli_flow", "--wait", "--timeout", "0.1")
    assert result.exit_code == 124
    assert "still RUNNING" in result.stderr


def test_start_rejects_input_that_is_not_an_object(registered: PodiumTestServer) -> None:
    result = podium("start", "cli_flow", "--input", "[1]")
    assert result.exit_code == 2
    assert "must be a JSON object" in result.stderr


def test_status_shows_the_run_and_its_tasks(running_worker: WorkerRunner) -> None:
    run_id = podium("start", "cli_flow", "-i", '{"who": "dee"}').stdout.strip()
    assert podium("start", "cli_flow", "--wait", "-i", '{"who": "x"}').exit_code == 0
    result = podium("status", run_id)
    assert result.exit_code == 0, result.output
    for text in (run_id, "cli_flow v3", "greet_ref", "cli_greet", "COMPLETED", "hello dee"):
        assert text in result.stdout
    assert running_worker.worker_id in result.stdout
    as_json = json.loads(podium("status", run_id, "--json").stdout)
    assert as_json["tasks"][0]["referenceTaskName"] == "greet_ref"


def test_list_filters_runs(registered: PodiumTestServer) -> None:
    first = podium("start", "cli_flow", "--correlation-id", "order-1").stdout.strip()
    podium("start", "cli_flow", "--correlation-id", "order-2")
    result = podium("list", "--correlation-id", "order-1")
    assert result.exit_code == 0, result.output
    assert first in result.stdout
    assert "1 of 1 run(s)" in result.stdout
    found = json.loads(podium("list", "--name", "cli_flow", "--status", "running", "--json").stdout)
    assert found["totalHits"] == 2
    assert podium("list", "--limit", "1", "--json").stdout.count('"workflowId"') == 1


def test_controls_and_signal(registered: PodiumTestServer) -> None:
    run_id = podium("start", "cli_flow").stdout.strip()
    assert podium("pause", run_id).stdout.strip() == f"paused {run_id}"
    assert podium("resume", run_id, "--json").stdout.count("resumed") == 1
    assert podium("terminate", run_id, "--reason", "test").exit_code == 0
    assert registered.run(run_id)["reasonForIncompletion"] == "test"
    assert podium("restart", run_id).exit_code == 0
    assert podium("terminate", run_id).exit_code == 0
    assert podium("retry", run_id).exit_code == 0
    result = podium("signal", run_id, "greet_ref", "--output", '{"result": "by hand"}')
    assert result.exit_code == 0, result.output
    assert registered.run(run_id)["output"] == {"greeting": "by hand"}


def test_server_errors_are_red_lines_on_stderr(server: PodiumTestServer) -> None:
    result = podium("status", "no-such-run")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        "error: HTTP 404 E_WORKFLOW_NOT_FOUND from server: no workflow run has id no-such-run"
        in (result.stderr)
    )


def test_unreachable_server_is_named() -> None:
    result = podium("list", "--server", "http://127.0.0.1:1")
    assert result.exit_code == 1
    assert "the server at http://127.0.0.1:1 is not reachable" in result.stderr


def test_worker_command_imports_from_the_current_directory(
    server: PodiumTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cli_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "workers.py").write_text(
        textwrap.dedent(
            """
            from podium.worker import worker_task

            @worker_task("cli_up")
            def up(text: str) -> str:
                return text.upper()

            @worker_task("cli_down")
            async def down(text: str) -> str:
                return text.lower()
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    for name in ("cli_pkg", "cli_pkg.workers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    up = server.enqueue("cli_up", {"text": "a"})
    down = server.enqueue("cli_down", {"text": "B"})

    result = podium("worker", "cli_pkg.workers:up", "--burst", "--poll-timeout-ms", "20")
    assert result.exit_code == 0, result.output
    assert server.task(up)["outputData"] == {"result": "A"}
    assert server.task(down)["status"] == "SCHEDULED"

    result = podium("worker", "cli_pkg.workers", "--burst", "--concurrency", "2", "--json")
    assert result.exit_code == 0, result.output
    assert server.task(down)["outputData"] == {"result": "b"}
    assert json.loads(result.stderr.splitlines()[0])["logger"] == "podium.worker"


def test_worker_command_names_what_it_cannot_load(server: PodiumTestServer) -> None:
    result = podium("worker", "no_such_module_here:fn")
    assert result.exit_code == 2
    assert "cannot load no_such_module_here:fn" in result.stderr


def test_server_command_builds_settings_and_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Settings] = []
    module = types.ModuleType("podium.server.main")
    module.serve = served.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "podium.server.main", module)
    monkeypatch.setenv("PODIUM_HOST", "0.0.0.0")
    port = free_port()  # the command checks that the port is free before serving
    result = podium("server", "--db", "runs.db", "--port", str(port))
    assert result.exit_code == 0, result.output
    [settings] = served
    assert (settings.database, settings.host, settings.port) == ("runs.db", "0.0.0.0", port)


def test_python_dash_m_podium() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "podium", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("server", "worker", "register", "start", "status", "list", "signal"):
        assert command in result.stdout
