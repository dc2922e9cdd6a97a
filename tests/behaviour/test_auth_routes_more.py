"""Who may call the search, signal, queue and run routes Conductor OSS has: each as its
neighbours, and task routes held to a key's task types.

Keys are made with auth off, then the same store is served with auth on, as in
``test_auth_scope.py``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.behaviour.helpers import key_clients, make_keys, poll, register, run, start, task_of

PAY = {"name": "pay_flow", "tasks": [{"name": "pay", "taskReferenceName": "pay", "type": "SIMPLE"}]}
SHIP = {
    "name": "ship_flow",
    "tasks": [{"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"}],
}
_KEYS = {
    "admin": {"roles": ["admin"]},
    "operator": {"roles": ["operator"]},
    "reader": {"roles": ["reader"]},
    "pay_worker": {"roles": ["worker"], "taskTypes": ["pay"]},
    "ship_worker": {"roles": ["worker"], "taskTypes": ["ship"]},
    "pay_reader": {"roles": ["worker", "reader"], "taskTypes": ["pay"]},
    "any_worker": {"roles": ["worker"]},
}


@pytest.fixture
def as_key(store_choice):
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        for flow in (PAY, SHIP):
            register(api, flow)
        keys = make_keys(api, _KEYS)
    with store_choice.server(auth=True) as locked, key_clients(locked.url, keys) as client:
        yield client


def _forbidden(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 403, response.text
    for word in words:
        assert word in response.json()["message"], response.json()


def test_a_signal_is_a_workers_and_held_to_its_task_types(as_key):
    operator, admin = as_key("operator"), as_key("admin")
    pay_worker, ship_worker = as_key("pay_worker"), as_key("ship_worker")
    pay_run = start(operator, "pay_flow")
    _forbidden(ship_worker.post(f"/api/tasks/{pay_run}/COMPLETED/signal", json={}), "pay")
    assert task_of(run(admin, pay_run), "pay")["status"] == "SCHEDULED"
    signalled = pay_worker.post(f"/api/tasks/{pay_run}/COMPLETED/signal", json={"ok": 1})
    assert (signalled.status_code, signalled.text) == (200, pay_run)
    assert task_of(run(admin, pay_run), "pay")["outputData"] == {"ok": 1}
    # /sync answers the whole run: a worker key that may not read runs signals without it.
    other = start(operator, "pay_flow")
    _forbidden(pay_worker.post(f"/api/tasks/{other}/COMPLETED/signal/sync", json={}), "/sync")
    assert task_of(run(admin, other), "pay")["status"] == "SCHEDULED"


def test_task_search_shows_a_scoped_key_only_its_types(as_key):
    operator, pay_reader, reader = as_key("operator"), as_key("pay_reader"), as_key("reader")
    start(operator, "pay_flow")
    start(operator, "ship_flow")
    assert reader.get("/api/tasks/search").json()["totalHits"] == 2
    found = pay_reader.get("/api/tasks/search").json()
    assert [hit["taskType"] for hit in found["results"]] == ["pay"]
    assert found["totalHits"] == 1
    v2 = pay_reader.get("/api/tasks/search-v2", params={"query": "taskType = ship"}).json()
    assert v2 == {"totalHits": 0, "results": []}
    _forbidden(as_key("any_worker").get("/api/tasks/search"), "read")


def test_queue_and_run_operations_need_an_operator_or_admin(as_key):
    operator, admin, worker = as_key("operator"), as_key("admin"), as_key("any_worker")
    run_id = start(operator, "pay_flow")
    _forbidden(worker.post("/api/tasks/queue/requeue/PAY"))  # not read as a signal by ref
    _forbidden(worker.post("/api/tasks/queue/requeue/pay"))
    assert operator.post("/api/tasks/queue/requeue/pay").text == "1"  # the run's waiting task
    _forbidden(worker.post(f"/api/workflow/{run_id}/resetcallbacks"))
    assert operator.post(f"/api/workflow/{run_id}/resetcallbacks").status_code == 200
    assert as_key("reader").get("/api/tasks/queue/all/verbose").status_code == 200
    # Removing a run is an admin's, as DELETE .../remove is.
    _forbidden(operator.delete(f"/api/workflow/{run_id}/terminate-remove"))
    assert run(admin, run_id)["status"] == "RUNNING"
    assert admin.delete(f"/api/workflow/{run_id}/terminate-remove").status_code == 200
    assert poll(as_key("pay_worker"), "pay", worker="w", timeout_ms=0) == []


def test_validating_a_definition_is_a_read_and_registering_stays_an_admins(as_key):
    reader, worker, operator = as_key("reader"), as_key("any_worker"), as_key("operator")
    checked = reader.post("/api/metadata/workflow/validate", json={**PAY, "name": "new_flow"})
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True
    _forbidden(worker.post("/api/metadata/workflow/validate", json=PAY))
    _forbidden(operator.post("/api/metadata/workflow", json={**PAY, "name": "new_flow"}))
    assert "new_flow" not in as_key("admin").get("/api/metadata/workflow/names").json()
    assert reader.get("/api/metadata/workflow/latest-versions").status_code == 200
