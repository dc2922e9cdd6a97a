"""``/api/health`` is the readiness check (the store answers), ``/api/health/live`` liveness."""

from __future__ import annotations


def test_health_reports_the_store_ready_and_the_process_live(server, api):
    ready = api.get("/api/health")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["ready"] is True and body["live"] is True
    assert body["store"] in ("store.sqlite", "store.postgres")
    assert api.get("/api/health/ready").json()["ready"] is True
    live = api.get("/api/health/live")
    assert live.status_code == 200 and live.json()["live"] is True
