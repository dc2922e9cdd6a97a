"""Circuit breakers per service: opening, holding tasks back, failing fast, skipping optional
steps, the half-open probe and closing again."""

from __future__ import annotations

import time

from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status

OPEN_S = 1.0
SHIPPING = {
    "name": "shipping",
    "owner": "Logistics",
    "contact": "#logistics",
    "circuitBreaker": {"failureThreshold": 2, "openSeconds": OPEN_S, "halfOpenProbes": 1},
}
SHIP_DEF = {"name": "ship", "retryCount": 0, "service": "shipping"}


def _flow(name: str, **ship: object) -> dict[str, object]:
    return {
        "name": name,
        "tasks": [
            {"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE", **ship},
            {"name": "notify", "taskReferenceName": "notify", "type": "SIMPLE"},
        ],
    }


def _open_the_breaker(api) -> None:
    register(api, _flow("trip"), [SHIP_DEF, {"name": "notify", "retryCount": 0}])
    for _ in range(2):
        run_id = start(api, "trip")
        (task,) = poll(api, "ship")
        complete(api, task, status="FAILED", reason="HTTP 503 from shipping")
        wait_status(api, run_id)
    breaker = api.get("/api/services/shipping").json()["breaker"]
    assert breaker["state"] == "OPEN", breaker
    assert breaker["transitions"][0]["reason"] == "2 consecutive failures: HTTP 503 from shipping"


def test_an_open_breaker_holds_tasks_back_then_a_probe_closes_it(api):
    api.post("/api/services", json=SHIPPING)
    _open_the_breaker(api)
    held = start(api, "trip")
    assert poll(api, "ship", timeout_ms=300) == []  # not handed out while open
    body = wait_status(api, held, {"RUNNING"})
    assert task_of(body, "ship")["status"] == "SCHEDULED"
    # After openSeconds one trial call goes out; the half-open breaker sends no second one.
    time.sleep(OPEN_S)
    (probe,) = poll(api, "ship", timeout_ms=2000)
    assert probe["workflowInstanceId"] == held
    other = start(api, "trip")
    assert poll(api, "ship", timeout_ms=300) == []
    assert api.get("/api/services/shipping").json()["breaker"]["state"] == "HALF_OPEN"
    complete(api, probe, {"tracking": "T1"})
    breaker = api.get("/api/services/shipping").json()["breaker"]
    assert breaker["state"] == "CLOSED"
    assert [t["to"] for t in breaker["transitions"]] == ["CLOSED", "HALF_OPEN", "OPEN"]
    (after,) = poll(api, "ship", timeout_ms=2000)
    assert after["workflowInstanceId"] == other


def test_a_failed_probe_opens_it_again(api):
    api.post("/api/services", json=SHIPPING)
    _open_the_breaker(api)
    run_id = start(api, "trip")
    time.sleep(OPEN_S)
    (probe,) = poll(api, "ship", timeout_ms=2000)
    complete(api, probe, status="FAILED", reason="still down")
    breaker = api.get("/api/services/shipping").json()["breaker"]
    assert breaker["state"] == "OPEN"
    assert breaker["transitions"][0]["reason"] == "a trial call failed: still down"
    assert wait_status(api, run_id)["status"] == "FAILED"


def test_fail_fast_ends_the_task_at_once_naming_the_breaker(api):
    api.post("/api/services", json=SHIPPING)
    _open_the_breaker(api)
    register(api, _flow("hasty", onCircuitOpen="fail"))
    run_id = start(api, "hasty")
    assert poll(api, "ship", timeout_ms=300) == []
    body = wait_status(api, run_id)
    assert body["status"] == "FAILED"
    ship = task_of(body, "ship")
    assert ship["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "circuit breaker of service shipping is open" in ship["reasonForIncompletion"]
    assert "owner Logistics" in ship["reasonForIncompletion"]
    assert body["failure"]["service"] == "shipping"


def test_an_optional_task_is_skipped_and_the_run_goes_on(api):
    api.post("/api/services", json=SHIPPING)
    _open_the_breaker(api)
    register(api, _flow("relaxed", onCircuitOpen="skip", optional=True))
    run_id = start(api, "relaxed")
    assert poll(api, "ship", timeout_ms=300) == []
    (notify,) = poll(api, "notify", timeout_ms=2000)
    complete(api, notify)
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "ship")["status"] == "COMPLETED_WITH_ERRORS"


def test_resetting_a_breaker_by_hand_closes_it(api):
    api.post("/api/services", json=SHIPPING)
    _open_the_breaker(api)
    reset = api.post("/api/services/shipping/breaker/reset")
    assert reset.status_code == 200
    assert reset.json()["breaker"]["state"] == "CLOSED"
    assert reset.json()["breaker"]["transitions"][0]["reason"] == "reset by an operator"
    start(api, "trip")
    assert len(poll(api, "ship", timeout_ms=2000)) == 1
