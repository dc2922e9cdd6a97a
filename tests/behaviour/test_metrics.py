"""``/metrics``: scraped and parsed as Prometheus would, after runs that retry and fail."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.behaviour.helpers import complete, poll, register, start, wait_status

SHIPPING = {
    "name": "shipping",
    "owner": "Logistics",
    "contact": "#logistics",
    "circuitBreaker": {"failureThreshold": 1, "openSeconds": 60},
}
FLOW = {
    "name": "order",
    "tasks": [
        {"name": "pay", "taskReferenceName": "pay", "type": "SIMPLE"},
        {"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"},
    ],
}
TASK_DEFS = [
    {"name": "pay", "retryCount": 1, "retryDelaySeconds": 0, "service": "payments"},
    {"name": "ship", "retryCount": 0, "service": "shipping"},
]


def _scrape(api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_runs_tasks_retries_queues_and_breakers(api):
    api.post("/api/services", json=[SHIPPING, {"name": "payments", "owner": "Payments"}])
    register(api, FLOW, TASK_DEFS)
    done = start(api, "order")
    (pay,) = poll(api, "pay")
    assert complete(api, pay, status="FAILED", reason="card network down").status_code == 200
    (pay_again,) = poll(api, "pay")
    assert pay_again["retryCount"] == 1
    complete(api, pay_again, {"paid": True})
    (ship,) = poll(api, "ship")
    complete(api, ship, {"tracking": "T1"})
    assert wait_status(api, done)["status"] == "COMPLETED"

    failed = start(api, "order")
    (pay,) = poll(api, "pay")
    complete(api, pay, {"paid": True})
    (ship,) = poll(api, "ship")
    complete(api, ship, status="FAILED", reason="HTTP 503")
    assert wait_status(api, failed)["status"] == "FAILED"
    start(api, "order")  # queued, never polled

    samples = _scrape(api)
    assert _value(samples, "podium_runs_started_total", workflow="order") == 3
    assert _value(samples, "podium_runs_finished_total", workflow="order", status="COMPLETED") == 1
    assert _value(samples, "podium_runs_finished_total", workflow="order", status="FAILED") == 1
    assert _value(samples, "podium_task_retries_total", task_type="pay") == 1
    finished = "podium_tasks_finished_total"
    assert _value(samples, finished, task_type="pay", service="payments", status="FAILED") == 1
    assert _value(samples, finished, task_type="pay", service="payments", status="COMPLETED") == 2
    assert _value(samples, finished, task_type="ship", service="shipping", status="FAILED") == 1
    latency = "podium_task_latency_seconds_count"
    assert _value(samples, latency, task_type="pay", service="payments") == 3
    assert _value(samples, latency, task_type="ship", service="shipping") == 2
    assert _value(samples, "podium_task_queue_wait_seconds_count", task_type="pay") == 3
    assert _value(samples, "podium_run_duration_seconds_count", workflow="order", status="FAILED")
    assert _value(samples, "podium_task_queue_depth", task_type="pay") == 1
    assert _value(samples, "podium_task_queue_depth", task_type="ship") == 0
    # One failure opened shipping's breaker: 2 is open.
    assert _value(samples, "podium_breaker_state", service="shipping") == 2
    assert _value(samples, "podium_breaker_transitions_total", service="shipping", to="OPEN") == 1


def test_every_answer_names_its_request_and_keeps_the_callers_correlation_id(api):
    register(api, FLOW, TASK_DEFS)
    response = api.post("/api/workflow/order", json={}, headers={"X-Correlation-Id": "cart-9"})
    assert response.status_code == 200
    assert len(response.headers["x-request-id"]) == 32
    run = api.get(f"/api/workflow/{response.text}", headers={"X-Request-Id": "mine"})
    assert run.headers["x-request-id"] == "mine"
    assert run.json()["correlationId"] == "cart-9"
    (task,) = poll(api, "pay")
    assert task["correlationId"] == "cart-9"
    assert task["traceparent"].startswith(f"00-{run.json()['traceId']}-")
