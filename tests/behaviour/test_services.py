"""The service registry, and failures that name the service, its owner and whom to call."""

from __future__ import annotations

import json
import logging

from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import complete, poll, register, start, wait_status

PAYMENT = {
    "name": "payment",
    "owner": "Payments team",
    "contact": "payments@example.com",
    "onCall": "#payments-oncall",
    "docsUrl": "https://docs.example.com/payment",
}
FLOW = {
    "name": "checkout",
    "tasks": [{"name": "charge_card", "taskReferenceName": "charge", "type": "SIMPLE"}],
}
CHARGE_DEF = {"name": "charge_card", "retryCount": 0, "service": "payment"}


def test_services_are_registered_listed_shown_and_deleted(api):
    response = api.post("/api/services", json=[PAYMENT, {"name": "shipping", "owner": "Logistics"}])
    assert response.status_code == 200, response.text
    assert response.json() == {"registered": ["payment", "shipping"]}
    listed = api.get("/api/services").json()
    assert [s["name"] for s in listed] == ["payment", "shipping"]
    shown = api.get("/api/services/payment").json()
    assert shown["owner"] == "Payments team" and shown["onCall"] == "#payments-oncall"
    assert api.delete("/api/services/shipping").status_code == 200
    missing = api.get("/api/services/shipping")
    assert missing.status_code == 404 and "shipping" in missing.json()["message"]


def test_a_bad_service_is_refused_naming_the_field_and_nothing_changes(api):
    response = api.post("/api/services", json=[PAYMENT, {"name": "shipping"}])
    assert response.status_code == 400
    body = response.json()
    assert body["field"].startswith("[1].owner"), body
    bad_breaker = {**PAYMENT, "circuitBreaker": {"openSeconds": -1}}
    response = api.post("/api/services", json=bad_breaker)
    assert response.status_code == 400
    assert "circuitBreaker.openSeconds" in response.json()["message"]
    assert api.get("/api/services").json() == []


def test_a_failed_run_names_the_service_its_owner_and_contact(api, server, caplog):
    api.post("/api/services", json=PAYMENT)
    register(api, FLOW, [CHARGE_DEF])
    run_id = start(api, "checkout")
    (task,) = poll(api, "charge_card")
    with caplog.at_level(logging.WARNING, logger="podium.server"):
        complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="card declined")
        body = wait_status(api, run_id)
    assert body["status"] == "FAILED"
    failure = body["failure"]
    assert failure["service"] == "payment"
    assert failure["owner"] == "Payments team"
    assert failure["contact"] == "payments@example.com"
    assert failure["onCall"] == "#payments-oncall"
    assert failure["reason"] == "card declined"
    assert failure["taskReferenceName"] == "charge"
    reason = body["reasonForIncompletion"]
    for part in ("card declined", "service payment", "Payments team", "payments@example.com"):
        assert part in reason, reason
    task_reason = body["tasks"][0]["reasonForIncompletion"]
    assert task_reason.startswith("card declined [service payment (owner Payments team")
    logged = [r.getMessage() for r in caplog.records if run_id in r.getMessage()]
    assert logged and "service payment (owner Payments team" in logged[0], logged

    shown = CliRunner().invoke(app, ["status", run_id, "--server", server.url])
    assert shown.exit_code == 0, shown.output
    assert "payment, owner Payments team, contact payments@example.com" in shown.output


def test_a_service_missing_from_the_registry_is_said_plainly(api):
    register(api, FLOW, [CHARGE_DEF])
    run_id = start(api, "checkout")
    (task,) = poll(api, "charge_card")
    complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="card declined")
    body = wait_status(api, run_id)
    assert body["failure"]["service"] == "payment"
    assert "not in the service registry" in body["reasonForIncompletion"]


def test_a_task_with_no_service_says_whom_to_name(api):
    register(api, FLOW, [{"name": "charge_card", "retryCount": 0}])
    run_id = start(api, "checkout")
    (task,) = poll(api, "charge_card")
    complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="card declined")
    body = wait_status(api, run_id)
    assert "no service is named for this task" in body["reasonForIncompletion"]
    assert body["failure"]["insidePodium"] is False


def test_the_cli_applies_a_folder_of_services_and_lists_them(server, tmp_path):
    folder = tmp_path / "services"
    folder.mkdir()
    (folder / "payment.json").write_text(json.dumps(PAYMENT))
    (folder / "more.json").write_text('[{"name": "shipping", "owner": "Logistics"}]')
    runner = CliRunner()
    applied = runner.invoke(app, ["services", "apply", str(folder), "--server", server.url])
    assert applied.exit_code == 0, applied.output
    assert "registered 2 service(s)" in applied.output
    listed = runner.invoke(app, ["services", "list", "--server", server.url])
    assert "Payments team" in listed.output and "Logistics" in listed.output
    bare = runner.invoke(app, ["services", "--server", server.url])  # lists too
    assert bare.exit_code == 0, bare.output
    assert bare.output == listed.output
    missing = runner.invoke(app, ["services", "show", "nope", "--server", server.url])
    assert missing.exit_code == 1 and "no service 'nope'" in missing.output
