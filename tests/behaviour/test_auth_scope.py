"""Keys limited to task types: a worker key with ``taskTypes`` may act only on tasks of
those types, on every task route, and task ids cannot be computed from a run id.

Keys are made with auth off, then the same store is served with auth on, as in
``test_auth.py``.
"""

from __future__ import annotations

import httpx
import pytest

from podium.engine.state import derive_id
from tests.behaviour.helpers import (
    key_clients,
    make_keys,
    poll,
    register,
    run,
    start,
    task_of,
    wait_status,
)

PAY = {"name": "pay_flow", "tasks": [{"name": "pay", "taskReferenceName": "pay", "type": "SIMPLE"}]}
SHIP = {
    "name": "ship_flow",
    "tasks": [{"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"}],
}
APPROVAL = {
    "name": "approval_flow",
    "tasks": [{"name": "approve", "taskReferenceName": "approve", "type": "HUMAN"}],
}
_KEYS = {
    "admin": {"roles": ["admin"]},
    "operator": {"roles": ["operator"]},
    "pay_worker": {"roles": ["worker"], "taskTypes": ["pay"]},
    "ship_worker": {"roles": ["worker"], "taskTypes": ["ship"]},
    "human_worker": {"roles": ["worker"], "taskTypes": ["HUMAN"]},
    "pay_reader": {"roles": ["worker", "reader"], "taskTypes": ["pay"]},
    "any_worker": {"roles": ["worker"]},
}


@pytest.fixture
def keys(store_choice):
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        for flow in (PAY, SHIP, APPROVAL):
            register(api, flow)
        return make_keys(api, _KEYS)


@pytest.fixture
def locked(store_choice, keys):
    with store_choice.server(auth=True) as server:
        yield server


@pytest.fixture
def as_key(locked, keys):
    with key_clients(locked.url, keys) as client:
        yield client


def _result(task: dict[str, object], worker: str, **extra: object) -> dict[str, object]:
    return {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": "COMPLETED",
        "outputData": {"by": "intruder"},
        "workerId": worker,
        **extra,
    }


def _refused_for(answer: httpx.Response | dict[str, object], task_type: str) -> None:
    body = answer.json() if isinstance(answer, httpx.Response) else answer
    status = answer.status_code if isinstance(answer, httpx.Response) else body["status"]
    assert status == 403, body
    assert body["code"] == "E_FORBIDDEN"
    assert task_type in str(body["message"])


def test_a_key_scoped_to_one_type_cannot_finish_a_task_of_another(as_key):
    operator, admin = as_key("operator"), as_key("admin")
    pay_worker, ship_worker = as_key("pay_worker"), as_key("ship_worker")
    run_id = start(operator, "ship_flow")
    (ship,) = poll(ship_worker, "ship", worker="ws")
    intruding = _result(ship, "ws")
    _refused_for(pay_worker.post("/api/tasks", json=intruding), "ship")
    _refused_for(pay_worker.post("/api/tasks/update-v2", json=intruding), "ship")
    batch = pay_worker.post("/api/tasks/update-batch", json=[intruding])
    assert batch.status_code == 200
    (item,) = batch.json()
    assert item["taskId"] == ship["taskId"] and "next" not in item
    _refused_for(item["error"], "ship")
    held = task_of(run(admin, run_id), "ship")
    assert (held["status"], held["workerId"], held["outputData"]) == ("IN_PROGRESS", "ws", {})
    owned = ship_worker.post("/api/tasks/update-v2", json=_result(ship, "ws"))
    assert owned.status_code == 204
    assert wait_status(admin, run_id)["status"] == "COMPLETED"


def test_an_update_answer_never_hands_out_a_task_outside_the_keys_types(as_key):
    operator, admin = as_key("operator"), as_key("admin")
    pay_worker, ship_worker = as_key("pay_worker"), as_key("ship_worker")
    first = start(operator, "ship_flow")
    (ship,) = poll(ship_worker, "ship", worker="ws")
    waiting = start(operator, "ship_flow", {"secret": "ship-to-address"})
    # Before the check, this answer carried the next ship task, input included.
    answer = pay_worker.post("/api/tasks/update-v2", json=_result(ship, "ws"))
    _refused_for(answer, "ship")
    assert "ship-to-address" not in answer.text
    assert admin.get("/api/tasks/queue/size", params={"taskType": "ship"}).json() == 1
    assert task_of(run(admin, waiting), "ship")["status"] == "SCHEDULED"
    assert task_of(run(admin, first), "ship")["status"] == "IN_PROGRESS"
    # A key's own type is handed on as before.
    start(operator, "pay_flow")
    start(operator, "pay_flow")
    (pay,) = poll(pay_worker, "pay", worker="wp")
    handed = pay_worker.post("/api/tasks/update-v2", json=_result(pay, "wp"))
    assert handed.status_code == 200 and handed.json()["taskType"] == "pay"


def test_signals_check_the_type_and_sync_answers_no_run_to_a_scoped_worker(as_key):
    operator, admin = as_key("operator"), as_key("admin")
    pay_worker, ship_worker = as_key("pay_worker"), as_key("ship_worker")
    run_id = start(operator, "pay_flow", {"card": "4111"})
    _refused_for(ship_worker.post(f"/api/tasks/{run_id}/pay/COMPLETED", json={}), "pay")
    synced = pay_worker.post(f"/api/tasks/{run_id}/pay/COMPLETED/sync", json={})
    assert synced.status_code == 403, synced.text
    assert "4111" not in synced.text and "/sync" in synced.json()["message"]
    assert task_of(run(admin, run_id), "pay")["status"] == "SCHEDULED"
    # A scoped key that may also read gets the run, as GET /api/workflow/{id} would give it.
    reader_run = start(operator, "pay_flow")
    with_read = as_key("pay_reader").post(f"/api/tasks/{reader_run}/pay/COMPLETED/sync", json={})
    assert with_read.status_code == 200 and with_read.json()["status"] == "COMPLETED"
    # Within its type the plain signal works, and a key with no types keeps the /sync answer.
    signalled = pay_worker.post(f"/api/tasks/{run_id}/pay/COMPLETED", json={"ok": True})
    assert signalled.status_code == 200
    assert wait_status(admin, run_id)["status"] == "COMPLETED"
    other = start(operator, "ship_flow")
    answered = as_key("any_worker").post(f"/api/tasks/{other}/ship/COMPLETED/sync", json={})
    assert answered.status_code == 200 and answered.json()["status"] == "COMPLETED"


def test_a_human_step_is_completed_only_by_a_key_whose_types_cover_it(as_key):
    operator, admin = as_key("operator"), as_key("admin")
    run_id = start(operator, "approval_flow")
    wait_status(admin, run_id, {"RUNNING"})
    refused = as_key("pay_worker").post(f"/api/tasks/{run_id}/approve/COMPLETED", json={})
    _refused_for(refused, "HUMAN")
    assert task_of(run(admin, run_id), "approve")["status"] == "IN_PROGRESS"
    assert run(admin, run_id)["status"] == "RUNNING"
    approved = as_key("human_worker").post(f"/api/tasks/{run_id}/approve/COMPLETED", json={})
    assert approved.status_code == 200, approved.text
    assert wait_status(admin, run_id)["status"] == "COMPLETED"


def test_a_scoped_key_cannot_log_to_or_read_another_types_task(as_key):
    operator, admin = as_key("operator"), as_key("admin")
    pay_worker, ship_worker = as_key("pay_worker"), as_key("ship_worker")
    start(operator, "ship_flow")
    (ship,) = poll(ship_worker, "ship", worker="ws")
    task_id = ship["taskId"]
    _refused_for(pay_worker.post(f"/api/tasks/{task_id}/log", content=b"forged line"), "ship")
    _refused_for(as_key("pay_reader").get(f"/api/tasks/{task_id}"), "ship")
    _refused_for(as_key("pay_reader").get(f"/api/tasks/{task_id}/log"), "ship")
    assert admin.get(f"/api/tasks/{task_id}/log").json() == []
    assert ship_worker.post(f"/api/tasks/{task_id}/log", content=b"packed").status_code == 204
    (line,) = admin.get(f"/api/tasks/{task_id}/log").json()
    assert line["log"] == "packed"
    # Unknown ids answer as before: there is no type to check.
    missing = pay_worker.post("/api/tasks/no-such-task/log", content=b"x")
    assert missing.status_code == 404


def test_task_ids_are_not_derived_from_the_run_id_alone(as_key):
    run_id = start(as_key("operator"), "pay_flow")
    task = task_of(run(as_key("admin"), run_id), "pay")
    assert task["taskId"] != derive_id(run_id, "0/1")
    assert task["workflowInstanceId"] == run_id
