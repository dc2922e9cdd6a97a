"""One breaker, two server processes sharing a PostgreSQL store: a breaker opened through
one instance holds tasks back on the other, and a probe through either closes it for both."""

from __future__ import annotations

import time

import httpx

from tests.behaviour.helpers import complete, poll, register, start, wait_status
from tests.behaviour.test_breakers import OPEN_S, SHIP_DEF, SHIPPING, _flow
from tests.e2e.processes import spawn_servers, stop, wait_healthy


def test_two_instances_share_one_breaker(tmp_path, postgres_url):
    from tests.postgres import drop_schema, new_schema_name

    schema = new_schema_name()
    env = {"PODIUM_DATABASE_URL": postgres_url, "PODIUM_DATABASE_SCHEMA": schema}
    servers, urls = spawn_servers(2, tmp_path, env)
    try:
        for url in urls:
            wait_healthy(url)
        with (
            httpx.Client(base_url=urls[0], timeout=30) as a,
            httpx.Client(base_url=urls[1], timeout=30) as b,
        ):
            a.post("/api/services", json=SHIPPING).raise_for_status()
            register(a, _flow("trip"), [SHIP_DEF, {"name": "notify", "retryCount": 0}])
            for _ in range(2):  # opened through instance A
                run_id = start(a, "trip")
                (task,) = poll(a, "ship")
                complete(a, task, status="FAILED", reason="HTTP 503")
                wait_status(a, run_id)
            assert b.get("/api/services/shipping").json()["breaker"]["state"] == "OPEN"
            held = start(b, "trip")
            assert poll(b, "ship", timeout_ms=300) == []  # held back by instance B too
            time.sleep(OPEN_S)
            (probe,) = poll(b, "ship", timeout_ms=3000)
            assert probe["workflowInstanceId"] == held
            assert a.get("/api/services/shipping").json()["breaker"]["state"] == "HALF_OPEN"
            waiting = start(a, "trip")
            assert poll(a, "ship", timeout_ms=300) == []  # the one probe is out, via B
            complete(a, probe)
            assert b.get("/api/services/shipping").json()["breaker"]["state"] == "CLOSED"
            (after,) = poll(a, "ship", timeout_ms=3000)
            assert after["workflowInstanceId"] == waiting
    finally:
        for server in servers:
            stop(server)
        drop_schema(postgres_url, schema)
