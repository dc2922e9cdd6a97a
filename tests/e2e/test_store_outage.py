"""The database stops for 20 s under a running server and its workers.

While it is down, requests that touch the store answer 503 with ``Retry-After`` at once (not
after a pool timeout), ``/api/health`` says the store is not ready while ``/api/health/live``
stays up; once it is back, runs flow again within 2 s, with nothing restarted by hand.
"""

from __future__ import annotations

import time

import httpx
import pytest

from podium.testing import free_port
from tests.e2e.failover_flow import STEPS, effects_schema, expected, flow, task_defs
from tests.e2e.pg_cluster import cluster
from tests.e2e.processes import spawn, stop, wait_healthy

# A cluster of its own to make (about 15 s), then minutes of load on shared cores.
pytestmark = pytest.mark.timeout(240)

OUTAGE_S = 20


def _finish(client: httpx.Client, run_id: str, within_s: float) -> float:
    """Seconds until ``run_id`` completed (at most ``within_s``)."""
    began = time.monotonic()
    while time.monotonic() - began < within_s:
        answer = client.get(f"/api/workflow/{run_id}", params={"includeTasks": "false"})
        if answer.status_code == 200 and answer.json()["status"] == "COMPLETED":
            return time.monotonic() - began
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} did not complete within {within_s} s")


def test_a_stopped_database_answers_503_at_once_and_work_resumes_when_it_is_back(
    tmp_path, postgres_url
):
    with cluster(standby=False) as (primary, _), effects_schema(postgres_url) as schema:
        env = {
            "PODIUM_DATABASE_URL": primary.url(),
            "PODIUM_SWEEP_INTERVAL_S": "0.5",
            "FAILOVER_DB_URL": postgres_url,
            "FAILOVER_SCHEMA": schema,
        }
        url = f"http://127.0.0.1:{free_port()}"
        server = spawn(["server", "--port", url.rsplit(":", 1)[1]], tmp_path / "server.log", env)
        worker = None
        try:
            wait_healthy(url, timeout=60)
            client = httpx.Client(base_url=url, timeout=30)
            assert client.post("/api/metadata/taskdefs", json=task_defs()).status_code == 200
            assert client.post("/api/metadata/workflow", json=flow()).status_code == 200
            worker = spawn(
                ["worker", "tests.e2e.failover_workers", "--server", url],
                tmp_path / "worker.log",
                env,
            )
            before = client.post("/api/workflow/failover_flow", json={"value": 1}).text
            _finish(client, before, within_s=30)

            primary.stop("fast")
            down_at = time.monotonic()
            slowest = 0.0
            refusals = 0
            while time.monotonic() - down_at < OUTAGE_S:
                asked = time.monotonic()
                answer = client.post("/api/workflow/failover_flow", json={"value": 2})
                took = time.monotonic() - asked
                slowest = max(slowest, took)
                assert answer.status_code == 503, answer.text
                assert answer.headers["Retry-After"] == "1"
                assert answer.json()["retryable"] is True
                refusals += 1
                health = client.get("/api/health")
                assert health.status_code == 503 and health.json()["ready"] is False
                assert client.get("/api/health/live").status_code == 200
                time.sleep(0.5)
            assert slowest < 2, f"a request took {slowest:.2f} s to be refused"
            assert refusals >= OUTAGE_S

            primary.start()
            back_at = time.monotonic()
            while client.get("/api/health").status_code != 200:
                assert time.monotonic() - back_at < 2, "the store was not ready within 2 s"
                time.sleep(0.02)
            ready_s = time.monotonic() - back_at
            started = client.post("/api/workflow/failover_flow", json={"value": 3})
            assert started.status_code == 200, started.text
            # Five steps through a worker that was refused for 20 s and backs off up to 2 s.
            run_s = _finish(client, started.text, within_s=10)
            flowing_s = time.monotonic() - back_at
            print(
                f"\nslowest refusal {slowest:.2f} s; ready {ready_s:.2f} s after the database "
                f"returned; a five-step run completed {flowing_s:.2f} s after (run {run_s:.2f} s)"
            )
            # The worker's poll backoff (up to 2 s) is most of it: the store was ready at once.
            assert flowing_s < 3, f"runs flowed again only {flowing_s:.2f} s after"
            body = client.get(f"/api/workflow/{started.text}").json()
            assert body["output"] == {"value": expected(3)}
            assert len(body["tasks"]) == len(STEPS)
            client.close()
        finally:
            if worker is not None:
                stop(worker)
            stop(server)
