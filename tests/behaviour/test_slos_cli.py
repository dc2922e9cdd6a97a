"""``podium slo`` against a running server, on each store: apply from YAML (a changed SLO
gets a new version), list, show, and rules from the server's SLOs."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import complete, poll, register, start, wait_status

FLOW = {
    "name": "cli_order",
    "tasks": [{"name": "cli_charge", "taskReferenceName": "charge", "type": "SIMPLE"}],
}
SLOS = """
slos:
  - name: order-success
    workflow: cli_order
    objective: {success: {target: 0.99}}
    window: 28d
  - name: charge-step
    workflow: cli_order
    step: charge
    objective: {latency: {percentile: 99, thresholdMs: 60000}}
"""


def cli(*args: str):
    return CliRunner().invoke(app, ["slo", *args])


def test_apply_list_show_and_rules(server, api, tmp_path):
    register(api, FLOW, [{"name": "cli_charge", "retryCount": 0}])
    path = tmp_path / "slos.yaml"
    path.write_text(SLOS)
    applied = cli("apply", "-f", str(path), "--server", server.url)
    assert applied.exit_code == 0, applied.output
    assert "registered order-success@1" in applied.output
    again = cli("apply", "-f", str(path), "--server", server.url)
    assert "unchanged  order-success" in again.output
    path.write_text(SLOS.replace("0.99", "0.995"))
    changed = cli("apply", "-f", str(path), "--server", server.url)
    assert "registered order-success@2" in changed.output
    assert "unchanged  charge-step" in changed.output

    for status in ("COMPLETED", "FAILED"):
        run_id = start(api, "cli_order")
        [task] = poll(api, "cli_charge")
        assert complete(api, task, status=status).status_code == 200
        wait_status(api, run_id)

    listed = cli("list", "--server", server.url)
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.output.splitlines() if "order-success" in line]
    # One of two failed against 99.5%: 50%, and 1 - 0.5/0.005 = -99 of the budget left.
    assert "workflow cli_order" in row and "99.5% succeed" in row
    assert "50%" in row and "-9900%" in row and "100x" in row
    shown = cli("show", "order-success", "--server", server.url)
    body = json.loads(shown.output)
    assert body["version"] == 2
    assert (body["status"]["events"], body["status"]["goodEvents"]) == (2, 1)
    first = json.loads(
        cli("show", "order-success", "--version", "1", "--server", server.url).output
    )
    assert first["objective"]["success"]["target"] == 0.99

    rules = cli("rules", "--server", server.url)
    assert rules.exit_code == 0, rules.output
    groups = yaml.safe_load(rules.stdout)["groups"]
    assert [g["name"] for g in groups] == ["podium-slo-order-success"]
    assert "skipped charge-step" in rules.stderr
    page = next(r for r in groups[0]["rules"] if r.get("alert") == "PodiumSLOBurn1h")
    assert "(14.4 * 0.005)" in page["expr"]
