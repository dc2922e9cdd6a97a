"""``podium rerun --service S --since 2h``: the dry-run table, the confirmation, the retry and
its summary, against a real server on both stores."""

from __future__ import annotations

import json

import httpx
from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import complete, poll, register, run, start, wait_status

FLOW = {
    "name": "checkout",
    "tasks": [{"name": "charge", "taskReferenceName": "t", "type": "SIMPLE"}],
}
SHIP = {"name": "dispatch", "tasks": [{"name": "ship", "taskReferenceName": "t", "type": "SIMPLE"}]}


def _failed(api: httpx.Client, flow: str, task_type: str, reason: str) -> str:
    run_id = start(api, flow)
    (task,) = poll(api, task_type)
    complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason=reason)
    assert wait_status(api, run_id)["status"] == "FAILED"
    return run_id


def test_rerun_lists_asks_and_retries_the_listed_runs(api, server):
    api.post("/api/services", json=[{"name": "payment", "owner": "Payments"}])
    register(api, FLOW, [{"name": "charge", "service": "payment"}])
    register(api, SHIP, [{"name": "ship"}])
    declined = _failed(api, "checkout", "charge", "card declined")
    flaky = _failed(api, "checkout", "charge", "gateway 503")
    other = _failed(api, "dispatch", "ship", "no truck")
    command = ["rerun", "--service", "payment", "--since", "2h", "--server", server.url]

    refused = CliRunner().invoke(app, command, input="n\n")
    assert refused.exit_code == 1, refused.output
    for run_id in (declined, flaky):
        assert run_id in refused.output
        assert run(api, run_id)["status"] == "FAILED"
    assert other not in refused.output
    assert "2 runs would be retried" in refused.output

    listed = CliRunner().invoke(app, [*command, "--dry-run", "--json"])
    assert listed.exit_code == 0, listed.output
    assert set(json.loads(listed.output)["runIds"]) == {declined, flaky}

    done = CliRunner().invoke(app, command, input="y\n")
    assert done.exit_code == 0, done.output
    assert "card declined" in done.output and "payment" in done.output
    assert "Retried 2 of 2 runs." in done.output
    for run_id in (declined, flaky):
        assert run(api, run_id)["status"] == "RUNNING"
    assert run(api, other)["status"] == "FAILED"

    nothing = CliRunner().invoke(app, [*command, "--yes"])
    assert nothing.exit_code == 0, nothing.output
    assert "nothing to retry" in nothing.output


def test_bulk_options_and_a_run_id_do_not_mix():
    nowhere = "http://127.0.0.1:9"  # refused before any request
    mixed = CliRunner().invoke(app, ["rerun", "some-run", "--service", "x", "--server", nowhere])
    assert mixed.exit_code == 2
    assert "without a run id" in mixed.output
    scripted = CliRunner().invoke(app, ["rerun", "--service", "x", "--json", "--server", nowhere])
    assert scripted.exit_code == 2
    assert "--yes or --dry-run" in scripted.output
