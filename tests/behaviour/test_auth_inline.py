"""Who may run a definition nobody registered: an inline ``workflowDef`` needs the admin role
or the ``definitions:inline`` grant, and such a run records who started it and the hash of
what it ran, and is logged to ``podium.audit``.

Keys are made with auth off, then the same store is served with auth on, as in
``test_auth.py``.
"""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import bearer, key_clients, make_keys, register, run, start

PAY = {"name": "pay_flow", "tasks": [{"name": "pay", "taskReferenceName": "pay", "type": "SIMPLE"}]}
INLINE = {
    "name": "adhoc_flow",
    "version": 1,
    "tasks": [{"name": "pay", "taskReferenceName": "pay", "type": "SIMPLE"}],
}
_KEYS = {
    "admin": {"roles": ["admin"]},
    "operator": {"roles": ["operator"]},
    "inliner": {"roles": ["operator"], "grants": ["definitions:inline"]},
}


@pytest.fixture
def keys(store_choice):
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        register(api, PAY)
        return make_keys(api, _KEYS)


@pytest.fixture
def as_key(store_choice, keys):
    with store_choice.server(auth=True) as server, key_clients(server.url, keys) as client:
        yield client


def _inline_start(client: httpx.Client, route: str = "/api/workflow") -> httpx.Response:
    body = {"name": INLINE["name"], "input": {"n": 1}, "workflowDef": INLINE}
    return client.post(route, json=body)


def test_an_operator_may_not_run_a_definition_nobody_registered(as_key):
    operator, admin = as_key("operator"), as_key("admin")
    for route in ("/api/workflow", "/api/workflow/execute/adhoc_flow/1"):
        refused = _inline_start(operator, route)
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["code"] == "E_FORBIDDEN" and body["field"] == "workflowDef"
        assert "definitions:inline" in body["message"] and "operator" in body["message"]
    assert admin.get("/api/workflow/search").json()["totalHits"] == 0
    registered = start(operator, "pay_flow")
    assert run(admin, registered)["createdBy"] == "operator"
    assert run(admin, registered)["inlineDefinitionHash"] is None


def test_an_inline_run_by_a_granted_key_is_recorded_and_logged(as_key, caplog):
    admin = as_key("admin")
    with caplog.at_level(logging.INFO, logger="podium.audit"):
        started = _inline_start(as_key("inliner"))
        assert started.status_code == 200, started.text
        by_admin = _inline_start(admin)
        assert by_admin.status_code == 200, by_admin.text
    run_id = started.text
    body = run(admin, run_id)
    assert body["createdBy"] == "inliner"
    digest = body["inlineDefinitionHash"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert run(admin, by_admin.text)["createdBy"] == "admin"
    hits = admin.get("/api/workflow/search", params={"query": "workflowType IN (adhoc_flow)"})
    found = {hit["workflowId"]: hit for hit in hits.json()["results"]}
    assert found[run_id]["createdBy"] == "inliner"
    assert found[run_id]["inlineDefinitionHash"] == digest
    audits = [r for r in caplog.records if r.name == "podium.audit"]
    mine = [r for r in audits if getattr(r, "workflowId", None) == run_id]
    assert len(mine) == 1, [r.__dict__ for r in audits]
    record = mine[0]
    assert record.levelno == logging.INFO
    assert (record.keyId, record.workflowName, record.definitionHash) == (
        "inliner",
        "adhoc_flow",
        digest,
    )


def test_grants_are_checked_when_a_key_is_made(store_choice):
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        for grant in ("admin", "definitions:everything"):
            refused = api.post(
                "/api/keys", json={"keyId": "key-1", "roles": ["operator"], "grants": [grant]}
            )
            assert refused.status_code == 400, refused.text
            assert refused.json()["field"].startswith("grants")
        assert api.get("/api/keys").json() == []
        made = api.post(
            "/api/keys",
            json={"keyId": "key-2", "roles": ["operator"], "grants": ["definitions:inline"]},
        )
        assert made.json()["grants"] == ["definitions:inline"]
        assert api.get("/api/keys").json()[0]["grants"] == ["definitions:inline"]


def test_the_cli_grants_an_operator_key_inline_definitions(store_choice, monkeypatch):
    monkeypatch.setenv("PODIUM_API_KEY", "")
    runner = CliRunner()
    target = (
        ["--database-url", store_choice.postgres_url, "--schema", store_choice.schema]
        if store_choice.backend == "postgres"
        else ["--db", str(store_choice.sqlite_path)]
    )
    create = ["keys", "create", "--role", "operator", "--id", "deployer", *target]
    refused = runner.invoke(app, [*create, "--grant", "admin"])
    assert refused.exit_code != 0 and "cannot be granted" in refused.output
    made = runner.invoke(app, [*create, "--grant", "definitions:inline"])
    assert made.exit_code == 0, made.output
    assert "grants: definitions:inline" in made.output
    secret = made.output.split("secret: ")[1].split()[0]
    key = {"keyId": "deployer", "keySecret": secret}
    with store_choice.server(auth=True) as server:
        with httpx.Client(base_url=server.url, headers=bearer(key)) as deployer:
            started = _inline_start(deployer)
            assert started.status_code == 200, started.text
            assert run(deployer, started.text)["createdBy"] == "deployer"


def test_with_auth_off_inline_definitions_run_as_before_and_are_still_audited(store_choice, caplog):
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        with caplog.at_level(logging.INFO, logger="podium.audit"):
            started = _inline_start(api)
        assert started.status_code == 200, started.text
        body = run(api, started.text)
    assert body["createdBy"] is None and body["inlineDefinitionHash"]
    (record,) = [r for r in caplog.records if r.name == "podium.audit"]
    assert record.keyId is None and record.workflowId == started.text
