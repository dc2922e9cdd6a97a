"""Authentication and roles: keys, tokens, what each role may do, revocation, rate limits.

Each test makes its keys on a server with auth off, then serves the same store with auth on.
"""

from __future__ import annotations

import sqlite3
import time

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import bearer, complete, poll, register, start

FLOW = {
    "name": "guarded",
    "tasks": [{"name": "g_task", "taskReferenceName": "g", "type": "SIMPLE"}],
}


@pytest.fixture
def keys(store_choice):
    """admin, operator, reader and a worker that may poll only g_task, made with auth off."""
    made: dict[str, dict[str, str]] = {}
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        assert api.post("/api/token", json={"keyId": "x", "keySecret": "y"}).status_code == 404
        register(api, FLOW)
        for role in ("admin", "operator", "reader"):
            made[role] = api.post("/api/keys", json={"keyId": role, "roles": [role]}).json()
        made["worker"] = api.post(
            "/api/keys", json={"keyId": "worker", "roles": ["worker"], "taskTypes": ["g_task"]}
        ).json()
    return made


@pytest.fixture
def locked(store_choice, keys):
    with store_choice.server(auth=True, auth_key_cache_s=0.2) as server:
        yield server


def test_calls_without_a_key_are_refused_and_change_nothing(locked, keys):
    with httpx.Client(base_url=locked.url) as anonymous:
        refused = anonymous.post("/api/workflow/guarded", json={})
        assert refused.status_code == 401
        assert "requires an API key" in refused.json()["message"]
        assert anonymous.get("/api/health").status_code == 200
        wrong = anonymous.get(
            "/api/workflow/search", headers=bearer({**keys["admin"], "keySecret": "nope"})
        )
        assert wrong.status_code == 401
    with httpx.Client(base_url=locked.url, headers=bearer(keys["reader"])) as reader:
        assert reader.get("/api/workflow/search").json()["totalHits"] == 0


def test_each_role_may_do_its_part_and_no_more(locked, keys):
    url = locked.url
    with httpx.Client(base_url=url, headers=bearer(keys["reader"])) as reader:
        assert reader.get("/api/metadata/workflow").status_code == 200
        denied = reader.post("/api/workflow/guarded", json={})
        assert denied.status_code == 403
        assert "needs the operate permission" in denied.json()["message"]
        assert reader.get("/api/keys").status_code == 403
    with httpx.Client(base_url=url, headers=bearer(keys["operator"])) as operator:
        run_id = start(operator, "guarded")
        assert operator.post("/api/metadata/taskdefs", json=[{"name": "x"}]).status_code == 403
        assert operator.get("/api/tasks/poll/g_task").status_code == 403
    with httpx.Client(base_url=url, headers=bearer(keys["worker"])) as worker:
        assert worker.get("/api/tasks/poll/batch/other_task").status_code == 403
        assert worker.get(f"/api/workflow/{run_id}").status_code == 403
        (task,) = poll(worker, "g_task", worker="w")
        assert complete(worker, task, {"ok": True}, worker="w").status_code == 200
    with httpx.Client(base_url=url, headers=bearer(keys["admin"])) as admin:
        assert admin.get(f"/api/workflow/{run_id}").json()["status"] == "COMPLETED"
        assert admin.post("/api/metadata/taskdefs", json=[{"name": "x"}]).status_code == 200
        listed = admin.get("/api/keys").json()
        assert {k["keyId"] for k in listed} == {"admin", "operator", "reader", "worker"}
        assert all("keySecret" not in k and "secret_hash" not in k for k in listed)


def test_batched_results_need_the_same_role_as_single_ones(locked, keys):
    url = locked.url
    with httpx.Client(base_url=url, headers=bearer(keys["operator"])) as operator:
        run_id = start(operator, "guarded")
    with httpx.Client(base_url=url, headers=bearer(keys["worker"])) as worker:
        (task,) = poll(worker, "g_task", worker="w")
    result = {"taskId": task["taskId"], "status": "COMPLETED", "workerId": "w"}
    for role in ("reader", "operator"):
        with httpx.Client(base_url=url, headers=bearer(keys[role])) as other:
            denied = other.post("/api/tasks/update-batch", json=[result])
            assert denied.status_code == 403, role
            assert "needs the work permission" in denied.json()["message"]
    with httpx.Client(base_url=url) as anonymous:
        assert anonymous.post("/api/tasks/update-batch", json=[result]).status_code == 401
    with httpx.Client(base_url=url, headers=bearer(keys["worker"])) as worker:
        answered = worker.post("/api/tasks/update-batch", json=[result])
        assert answered.json() == [{"taskId": task["taskId"], "next": None}]
    with httpx.Client(base_url=url, headers=bearer(keys["admin"])) as admin:
        assert admin.get(f"/api/workflow/{run_id}").json()["status"] == "COMPLETED"


def test_tokens_work_like_conductors_and_die_with_their_key(locked, keys):
    with httpx.Client(base_url=locked.url) as anonymous:
        bad = anonymous.post("/api/token", json={"keyId": "operator", "keySecret": "wrong"})
        assert bad.status_code == 401
        token = anonymous.post(
            "/api/token",
            json={"keyId": keys["operator"]["keyId"], "keySecret": keys["operator"]["keySecret"]},
        ).json()["token"]
        headers = {"X-Authorization": token}
        assert anonymous.post("/api/workflow/guarded", json={}, headers=headers).status_code == 200
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        refused = anonymous.get("/api/workflow/search", headers={"X-Authorization": tampered})
        assert refused.status_code == 401
    with httpx.Client(base_url=locked.url, headers=bearer(keys["admin"])) as admin:
        assert admin.delete("/api/keys/operator").status_code == 200
    time.sleep(0.3)  # past the key cache
    with httpx.Client(base_url=locked.url) as anonymous:
        after = anonymous.get("/api/workflow/search", headers={"X-Authorization": token})
        assert after.status_code == 401
        assert "revoked" in after.json()["message"]


def test_a_key_over_its_rate_gets_429_with_retry_after(store_choice, keys):
    with store_choice.server(auth=True, rate_limit_per_key=1) as server:
        with httpx.Client(base_url=server.url, headers=bearer(keys["reader"])) as reader:
            codes = [reader.get("/api/metadata/workflow").status_code for _ in range(4)]
            assert codes[:2] == [200, 200]
            assert 429 in codes[2:]
            limited = reader.get("/api/metadata/workflow")
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1


def test_the_cli_makes_the_first_key_in_the_store_and_then_uses_it(store_choice, monkeypatch):
    # --api-key is kept in the process's environment for the clients it makes: restore it after.
    monkeypatch.setenv("PODIUM_API_KEY", "")
    runner = CliRunner()
    target = (
        ["--database-url", store_choice.postgres_url, "--schema", store_choice.schema]
        if store_choice.backend == "postgres"
        else ["--db", str(store_choice.sqlite_path)]
    )
    made = runner.invoke(app, ["keys", "create", "--role", "admin", "--id", "root", *target])
    assert made.exit_code == 0, made.output
    secret = made.output.split("secret: ")[1].split()[0]
    with store_choice.server(auth=True) as server:
        denied = runner.invoke(app, ["keys", "list", "--server", server.url])
        assert denied.exit_code == 1 and "requires an API key" in denied.output
        # The CLI user is told of the variable and the flag, not of HTTP headers.
        assert "PODIUM_API_KEY" in denied.output and "--api-key" in denied.output
        assert "Authorization" not in denied.output
        listed = runner.invoke(
            app, ["--api-key", f"root:{secret}", "keys", "list", "--server", server.url]
        )
        assert listed.exit_code == 0, listed.output
        assert "root" in listed.output
        # The key may follow the command too, in either spelling.
        for after in (["--api-key", f"root:{secret}"], [f"--api-key=root:{secret}"]):
            monkeypatch.setenv("PODIUM_API_KEY", "")
            late = runner.invoke(app, ["list", "--server", server.url, *after])
            assert late.exit_code == 0, late.output
            assert "0 of 0 run(s)" in late.output
        monkeypatch.setenv("PODIUM_API_KEY", "")
        wrong = runner.invoke(app, ["list", "--server", server.url, "--api-key", "root:nope"])
        assert wrong.exit_code == 1 and "refused the API key" in wrong.output
        assert "PODIUM_API_KEY" in wrong.output


def _rename_table(store_choice, old: str, new: str) -> None:
    """Rename a table under the running server: its next statement on it fails."""
    if store_choice.backend == "postgres":
        with psycopg.connect(store_choice.postgres_url) as conn:
            conn.execute(f"ALTER TABLE {store_choice.schema}.{old} RENAME TO {new}")  # type: ignore[arg-type]
        return
    with sqlite3.connect(store_choice.sqlite_path) as conn:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")


def test_a_store_failing_while_a_key_is_looked_up_answers_503_not_500(store_choice, keys):
    with store_choice.server(auth=True, auth_key_cache_s=0) as server:
        with httpx.Client(base_url=server.url, headers=bearer(keys["reader"])) as reader:
            assert reader.get("/api/workflow/search").status_code == 200
            document = reader.get("/openapi.json").json()
            declared = document["paths"]["/api/workflow/search"]["get"]["responses"]
            _rename_table(store_choice, "api_keys", "api_keys_away")
            failed = reader.get("/api/workflow/search")
            assert failed.status_code == 503, failed.text
            body = failed.json()
            assert body["code"] == "E_STORE" and body["service"].startswith("store."), body
            assert body["retryable"] is True
            assert failed.headers["content-type"] == "application/json"
            assert failed.headers["retry-after"] == "1"
            assert "application/json" in declared["503"]["content"]
            _rename_table(store_choice, "api_keys_away", "api_keys")
            assert reader.get("/api/workflow/search").status_code == 200
