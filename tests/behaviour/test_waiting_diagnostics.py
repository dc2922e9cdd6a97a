"""A run stuck on a task no worker serves says so: on the run (``diagnostics``), and in
``podium start --wait`` while it waits; ``podium register`` prints registration warnings."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import poll, register, run, start

THRESHOLD_S = 1.0
FLOW = {
    "name": "greet_helo",
    "tasks": [{"name": "helo", "taskReferenceName": "helo", "type": "SIMPLE"}],
}


@pytest.fixture
def quick(store_choice):
    """A server that reports a task after one second without a worker."""
    with (
        store_choice.server(sweep_interval_s=0.2, no_worker_warning_s=THRESHOLD_S) as running,
        httpx.Client(base_url=running.url, timeout=30) as client,
    ):
        yield running, client


def _diagnostics_after(api: httpx.Client, run_id: str, seconds: float) -> list[dict]:
    deadline = time.monotonic() + seconds + 5
    while time.monotonic() < deadline:
        found = run(api, run_id)["diagnostics"]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no diagnostics on run {run_id}")


def test_a_task_no_worker_polls_for_is_reported_on_its_run(quick):
    _, api = quick
    register(api, FLOW)
    began = time.monotonic()
    run_id = start(api, "greet_helo")
    assert run(api, run_id)["diagnostics"] == []  # not yet: it has only just been scheduled
    (note,) = _diagnostics_after(api, run_id, THRESHOLD_S)
    assert time.monotonic() - began >= THRESHOLD_S - 0.05  # the server's clock is its own
    body = run(api, run_id)
    assert body["status"] == "RUNNING"
    assert body["tasks"][0]["status"] == "SCHEDULED"  # the Conductor shape is unchanged
    assert note["kind"] == "NO_WORKER"
    assert note["taskId"] == body["tasks"][0]["taskId"]
    assert note["lastPollTime"] is None
    assert note["message"].startswith("task 'helo' has waited ")
    assert note["message"].endswith(" s and no worker has polled type 'helo'")
    # A worker that polls takes the task, and the note goes.
    (task,) = poll(api, "helo")
    assert task["workflowInstanceId"] == run_id
    assert run(api, run_id)["diagnostics"] == []


def test_a_type_polled_once_but_not_lately_says_when_it_was_last_polled(quick):
    _, api = quick
    register(api, FLOW)
    assert poll(api, "helo", timeout_ms=0) == []  # a worker came by, then went away
    run_id = start(api, "greet_helo")
    time.sleep(THRESHOLD_S / 2)
    assert run(api, run_id)["diagnostics"] == []  # polled lately: a worker may be about to
    (note,) = _diagnostics_after(api, run_id, THRESHOLD_S)
    assert note["lastPollTime"] is not None
    assert "no worker has polled type 'helo' for " in note["message"]
    assert "(last poll at 20" in note["message"]


def test_an_ended_run_has_no_diagnostics(quick):
    _, api = quick
    register(api, FLOW)
    run_id = start(api, "greet_helo")
    _diagnostics_after(api, run_id, THRESHOLD_S)
    assert api.delete(f"/api/workflow/{run_id}").status_code in (200, 204)
    assert run(api, run_id)["diagnostics"] == []


def test_start_wait_says_why_it_waits_and_how_long_it_really_waited(quick):
    server, api = quick
    register(api, FLOW)
    began = time.monotonic()
    result = CliRunner().invoke(
        app, ["start", "greet_helo", "--wait", "--timeout", "2.5", "--server", server.url]
    )
    assert result.exit_code == 124, result.output
    assert time.monotonic() - began >= 2.5
    lines = result.stderr.splitlines()
    # Printed while waiting (once, however many times the run was read), then the timeout.
    notes = [line for line in lines if "no worker has polled type 'helo'" in line]
    assert len(notes) == 2, result.stderr
    assert notes[0].startswith("warning: task 'helo' has waited ")
    assert "is still RUNNING after 2 s" in notes[1] or "after 3 s" in notes[1], notes[1]
    assert notes[1].startswith("error: workflow ")


def test_start_wait_json_keeps_stdout_for_the_run_and_warns_on_stderr(quick):
    server, api = quick
    register(api, FLOW)
    result = CliRunner().invoke(
        app,
        ["start", "greet_helo", "--wait", "--timeout", "2", "--json", "--server", server.url],
    )
    assert result.exit_code == 124, result.output
    assert result.stdout == ""
    assert "warning: task 'helo' has waited " in result.stderr


def test_register_prints_warnings_and_strict_refuses(quick, tmp_path):
    server, api = quick
    typo = {
        "name": "greet_typo",
        "tasks": [{"name": "hello", "taskReferenceName": "hello", "inputParameter": {}}],
    }
    path = tmp_path / "greet.json"
    path.write_text(json.dumps(typo))
    strict = CliRunner().invoke(app, ["register", str(path), "--strict", "--server", server.url])
    assert strict.exit_code == 1, strict.output
    assert "did you mean 'inputParameters'?" in strict.stderr
    assert api.get("/api/metadata/workflow/greet_typo").status_code == 404
    lenient = CliRunner().invoke(app, ["register", str(path), "--server", server.url])
    assert lenient.exit_code == 0, lenient.output
    assert "registered workflow greet_typo v1" in lenient.stdout
    assert (
        "warning: greet_typo: tasks[0].inputParameter (task 'hello'): unknown field, ignored; "
        "did you mean 'inputParameters'?"
    ) in lenient.stderr
    as_json = CliRunner().invoke(app, ["register", str(path), "--json", "--server", server.url])
    assert json.loads(as_json.stdout)["warnings"] == [
        "greet_typo: tasks[0].inputParameter (task 'hello'): unknown field, ignored; "
        "did you mean 'inputParameters'?"
    ]
