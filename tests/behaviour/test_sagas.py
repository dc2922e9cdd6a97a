"""Saga compensation end to end: workers poll for compensations like any task."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

NO_RETRY = {"retryCount": 0, "retryDelaySeconds": 0}


def _step(ref: str, undo: str | None = None, **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"name": ref, "taskReferenceName": ref, **extra}
    if undo:
        step["compensation"] = {
            "name": undo,
            "inputParameters": {
                "id": f"${{{ref}.output.id}}",
                "order": "${compensated.input.order}",
            },
        }
    return step


def _defs(*names: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": name, **NO_RETRY, **extra} for name in names]


ORDER = {
    "name": "order_saga",
    "version": 1,
    "tasks": [
        _step("reserve", "release", inputParameters={"order": "${workflow.input.order}"}),
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [
                [_step("charge", "refund", inputParameters={"order": "${workflow.input.order}"})],
                [_step("email")],  # nothing to undo: skipped in the walk
                [_step("book", "unbook", inputParameters={"order": "${workflow.input.order}"})],
            ],
        },
        {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["charge", "book"]},
        _step("ship"),
    ],
}
ORDER_DEFS = [
    *_defs("reserve", "charge", "email", "book", "ship", "refund", "unbook"),
    *_defs("release", service="inventory"),
]


def _do(api, task_type: str, output: dict[str, Any] | None = None) -> dict[str, Any]:
    [task] = poll(api, task_type)
    assert complete(api, task, output).status_code == 200
    return task


def _run_order_to_ship(api) -> str:
    register(api, ORDER, ORDER_DEFS)
    run_id = start(api, "order_saga", {"order": "o-1"})
    _do(api, "reserve", {"id": "res-1"})
    _do(api, "book", {"id": "bk-1"})
    _do(api, "email")
    _do(api, "charge", {"id": "pay-1"})
    return run_id


def test_a_failure_undoes_completed_steps_in_reverse_including_parallel_branches(api):
    run_id = _run_order_to_ship(api)
    [ship] = poll(api, "ship")
    complete(api, ship, status="FAILED", reason="no courier")
    assert wait_status(api, run_id, {"COMPENSATING"})["endTime"] == 0

    seen = []
    for kind in ("refund", "unbook", "release"):
        [task] = poll(api, kind, timeout_ms=100)
        seen.append((task["referenceTaskName"], task["inputData"], task["idempotencyKey"]))
        for other in {"refund", "unbook", "release"} - {kind}:
            assert poll(api, other, timeout_ms=0) == []  # one at a time
        complete(api, task, {"undone": task["inputData"]["id"]})
    assert seen == [
        ("charge__compensate", {"id": "pay-1", "order": "o-1"}, f"{run_id}:compensate:charge"),
        ("book__compensate", {"id": "bk-1", "order": "o-1"}, f"{run_id}:compensate:book"),
        ("reserve__compensate", {"id": "res-1", "order": "o-1"}, f"{run_id}:compensate:reserve"),
    ]

    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATED"
    assert body["reasonForIncompletion"].startswith("task 'ship' (ship) FAILED: no courier [")
    record = body["compensation"]
    assert record["trigger"] == "FAILED"
    assert record["failedReferenceTaskNames"] == ["ship"]
    assert record["notCompensated"] == ["email"]
    assert [(s["referenceTaskName"], s["status"], s["output"]) for s in record["steps"]] == [
        ("charge", "COMPLETED", {"undone": "pay-1"}),
        ("book", "COMPLETED", {"undone": "bk-1"}),
        ("reserve", "COMPLETED", {"undone": "res-1"}),
    ]
    assert task_of(body, "email")["status"] == "COMPLETED"
    searched = api.get("/api/workflow/search", params={"status": "COMPENSATED"}).json()
    assert [r["workflowId"] for r in searched["results"]] == [run_id]


def test_a_compensation_is_retried_with_one_idempotency_key_and_its_effect_happens_once(api):
    defs = [*ORDER_DEFS[:-1], {"name": "release", "retryCount": 2, "retryDelaySeconds": 0}]
    register(api, ORDER, defs)
    run_id = start(api, "order_saga", {"order": "o-2"})
    _do(api, "reserve", {"id": "res-2"})
    [charge] = poll(api, "charge")
    complete(api, charge, status="FAILED", reason="card declined")

    released: dict[str, str] = {}  # the inventory service's side effects, by idempotency key
    keys = []

    def release_worker() -> str:
        [task] = poll(api, "release")
        key = task["idempotencyKey"]
        keys.append(key)
        released.setdefault(key, task["inputData"]["id"])  # applied once per key
        # The first attempt does the work, then loses its answer (a crash, a lost reply).
        status = "FAILED" if len(keys) == 1 else "COMPLETED"
        complete(api, task, {"released": True}, status=status, reason="connection reset")
        return status

    assert release_worker() == "FAILED"
    assert release_worker() == "COMPLETED"
    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATED"
    assert keys == [f"{run_id}:compensate:reserve"] * 2
    assert released == {f"{run_id}:compensate:reserve": "res-2"}
    [step] = body["compensation"]["steps"]
    assert (step["referenceTaskName"], step["attempts"]) == ("reserve", 2)
    attempts = [t for t in body["tasks"] if t["referenceTaskName"] == "reserve__compensate"]
    assert [t["status"] for t in attempts] == ["FAILED", "COMPLETED"]


def test_a_compensation_failing_for_good_names_its_service_and_retry_resumes_the_walk(api):
    run_id = _run_order_to_ship(api)
    [ship] = poll(api, "ship")
    complete(api, ship, status="FAILED", reason="no courier")
    _do(api, "refund")
    _do(api, "unbook")
    [release] = poll(api, "release")
    complete(api, release, status="FAILED", reason="inventory db down")

    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATION_FAILED"
    reason = body["reasonForIncompletion"]
    assert "compensation 'reserve__compensate' (release) of task 'reserve'" in reason
    assert "service inventory" in reason and "inventory db down" in reason
    assert body["failedReferenceTaskNames"] == ["ship", "reserve__compensate"]
    assert [s["status"] for s in body["compensation"]["steps"]] == [
        "COMPLETED",
        "COMPLETED",
        "FAILED",
    ]

    resumed = CliRunner().invoke(app, ["retry", run_id, "--server", str(api.base_url)])
    assert resumed.exit_code == 0, resumed.output
    assert run(api, run_id)["status"] == "COMPENSATING"
    assert poll(api, "refund", timeout_ms=0) == []  # what was undone stays undone
    [again] = poll(api, "release")
    assert again["idempotencyKey"] == release["idempotencyKey"]
    complete(api, again)
    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATED"
    assert body["reasonForIncompletion"].startswith("task 'ship' (ship) FAILED: no courier [")
    assert [s["status"] for s in body["compensation"]["steps"]] == ["COMPLETED"] * 3
    assert api.post(f"/api/workflow/{run_id}/retry").status_code == 409


def test_terminate_with_compensate_undoes_the_completed_steps(api):
    run_id = _run_order_to_ship(api)
    response = api.delete(
        f"/api/workflow/{run_id}", params={"reason": "customer cancelled", "compensate": "true"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "COMPENSATING"
    again = api.delete(f"/api/workflow/{run_id}", params={"compensate": "true"})
    assert again.json()["status"] == "COMPENSATING"  # already undoing: nothing changes
    assert task_of(run(api, run_id), "ship")["status"] == "CANCELED"
    for kind in ("refund", "unbook", "release"):
        _do(api, kind)
    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATED"
    assert body["reasonForIncompletion"] == "customer cancelled"
    assert body["compensation"]["trigger"] == "TERMINATED"

    bad = api.delete(f"/api/workflow/{run_id}", params={"compensate": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "compensate"


def test_a_failed_sub_workflow_compensates_itself_then_its_parent(api):
    inner = {
        "name": "payment",
        "version": 1,
        "tasks": [
            _step("charge", "refund", inputParameters={"order": "${workflow.input.order}"}),
            _step("capture"),
        ],
    }
    outer = {
        "name": "checkout",
        "version": 1,
        "tasks": [
            _step("reserve", "release", inputParameters={"order": "${workflow.input.order}"}),
            {
                "name": "payment",
                "taskReferenceName": "pay",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "payment", "version": 1},
                "inputParameters": {"order": "${workflow.input.order}"},
            },
        ],
    }
    register(api, inner, _defs("charge", "capture", "refund", "reserve", "release"))
    register(api, outer)
    run_id = start(api, "checkout", {"order": "o-3"})
    _do(api, "reserve", {"id": "res-3"})
    _do(api, "charge", {"id": "pay-3"})
    [capture] = poll(api, "capture")
    complete(api, capture, status="FAILED", reason="capture refused")
    child_id = task_of(run(api, run_id), "pay")["subWorkflowId"]

    assert poll(api, "release", timeout_ms=0) == []  # the child undoes its own steps first
    [refund] = poll(api, "refund")
    assert refund["workflowInstanceId"] == child_id
    assert refund["inputData"] == {"id": "pay-3", "order": "o-3"}
    complete(api, refund)
    [release] = poll(api, "release")
    assert release["workflowInstanceId"] == run_id
    complete(api, release)

    assert wait_status(api, child_id)["status"] == "COMPENSATED"
    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATED"
    assert "COMPENSATED" in task_of(body, "pay")["reasonForIncompletion"]
    assert [s["referenceTaskName"] for s in body["compensation"]["steps"]] == ["reserve"]


def test_a_definition_with_a_bad_compensation_is_refused_naming_the_field(api):
    bad = {
        "name": "bad_saga",
        "tasks": [
            {
                "name": "a",
                "taskReferenceName": "a",
                "compensation": {"name": "undo", "type": "SUB_WORKFLOW"},
            }
        ],
    }
    response = api.post("/api/metadata/workflow", json=bad)
    assert response.status_code == 400
    assert "tasks[0].compensation.subWorkflowParam (task 'a')" in response.text


def test_the_cli_terminates_with_compensate(api):
    run_id = _run_order_to_ship(api)
    args = ["terminate", run_id, "--compensate", "--server", str(api.base_url)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert run(api, run_id)["status"] == "COMPENSATING"
    assert [t["referenceTaskName"] for t in poll(api, "refund")] == ["charge__compensate"]
