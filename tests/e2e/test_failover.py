"""Two server processes on one PostgreSQL database; one is killed with SIGKILL mid-run.

1,000 runs of 5 steps all complete through the survivor, and no step's side effect is applied
twice: the workers check the idempotency key Podium passes them.
"""

from __future__ import annotations

import signal
import time

import httpx
import psycopg
import pytest

from tests.e2e.failover_flow import STEPS, effects_schema, expected, flow, task_defs
from tests.e2e.processes import spawn, spawn_servers, stop, wait_healthy

RUNS = 1000


def _completed(client: httpx.Client) -> int:
    found = client.get("/api/workflow/search", params={"status": "COMPLETED", "size": 0}).json()
    total: int = found["totalHits"]
    return total


@pytest.fixture
def shared_schema(postgres_url):
    with effects_schema(postgres_url) as schema:
        yield schema


def test_killing_one_of_two_instances_loses_and_repeats_nothing(
    tmp_path, postgres_url, shared_schema
):
    env = {
        "PODIUM_DATABASE_URL": postgres_url,
        "PODIUM_DATABASE_SCHEMA": shared_schema,
        "PODIUM_SWEEP_INTERVAL_S": "0.5",
        "FAILOVER_DB_URL": postgres_url,
        "FAILOVER_SCHEMA": shared_schema,
    }
    servers, urls = spawn_servers(2, tmp_path, env)
    workers = []
    try:
        for url in urls:
            wait_healthy(url)
        with httpx.Client(base_url=urls[1], timeout=30) as client:
            assert client.post("/api/metadata/taskdefs", json=task_defs()).status_code == 200
            assert client.post("/api/metadata/workflow", json=flow()).status_code == 200
        # Each worker process knows both instances and starts on a different one.
        workers = [
            spawn(
                ["worker", "tests.e2e.failover_workers", "--server", ",".join(order)],
                tmp_path / f"worker{i}.log",
                env,
            )
            for i, order in enumerate((urls, urls[::-1]))
        ]
        clients = [httpx.Client(base_url=url, timeout=30) for url in urls]
        try:
            ids = {}
            for value in range(RUNS):
                response = clients[value % 2].post(
                    "/api/workflow/failover_flow", json={"value": value}
                )
                assert response.status_code == 200, response.text
                ids[response.text] = value
            assert len(ids) == RUNS
            deadline = time.monotonic() + 120
            while (done := _completed(clients[1])) < RUNS // 5:
                assert time.monotonic() < deadline, "no progress before the kill"
                time.sleep(0.05)
            stop(servers[0], signal.SIGKILL)
            assert done < RUNS, "the kill came too late to test anything"

            survivor = clients[1]
            deadline = time.monotonic() + 240
            while (done := _completed(survivor)) < RUNS:
                assert time.monotonic() < deadline, f"only {done} of {RUNS} runs completed"
                time.sleep(0.5)
            for run_id, value in ids.items():
                body = survivor.get(
                    f"/api/workflow/{run_id}", params={"includeTasks": "false"}
                ).json()
                assert body["status"] == "COMPLETED", body
                assert body["output"] == {"value": expected(value)}, body
        finally:
            for client in clients:
                client.close()

        with psycopg.connect(postgres_url) as conn:
            conn.execute(f"SET search_path TO {shared_schema}")
            repeated = conn.execute(
                "SELECT key, COUNT(*) FROM effects GROUP BY key HAVING COUNT(*) > 1"
            ).fetchall()
            effects = conn.execute("SELECT COUNT(DISTINCT key), COUNT(*) FROM effects").fetchone()
            deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()
        assert repeated == []
        assert effects == (RUNS * len(STEPS), RUNS * len(STEPS))
        assert deliveries is not None and deliveries[0] >= RUNS * len(STEPS)
    finally:
        for worker in workers:
            stop(worker)
        for server in servers:
            stop(server)
