"""The PostgreSQL primary is SIGKILLed under load and its synchronous standby promoted.

Two Podium instances share the database through a connection string listing both servers;
1,000 five-step runs go through both. Mid-load the primary is killed and the standby
promoted (what Patroni or pg_auto_failover would do): every run completes with the right
output, every run acknowledged as completed before the kill still is (synchronous
replication), and no step's side effect is applied twice (the workers check the idempotency
key; a step is delivered again only after a lease ran out or a result's answer was lost).
The time from the kill to the first result accepted is printed.
"""

from __future__ import annotations

import threading
import time

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.failover_flow import STEPS, effects_schema, expected, flow, task_defs
from tests.e2e.pg_cluster import cluster
from tests.e2e.processes import spawn, spawn_servers, stop, wait_healthy

# A cluster of its own to make (about 15 s), then minutes of load on shared cores.
pytestmark = pytest.mark.timeout(420)

RUNS = 1000


def _results_accepted(clients: list[httpx.Client]) -> int | None:
    """Task results the instances recorded since they started (None: one cannot say now)."""
    total = 0
    for client in clients:
        try:
            answer = client.get("/metrics", timeout=2)
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        for family in text_string_to_metric_families(answer.text):
            if family.name == "podium_tasks_finished":
                total += int(sum(s.value for s in family.samples if s.name.endswith("_total")))
    return total


def _post_runs(urls: list[str], ids: dict[str, int]) -> None:
    """Start the runs through both instances, as a client would: a 503 is tried again after
    its Retry-After, and the idempotency key keeps a start whose answer was lost single."""
    clients = [httpx.Client(base_url=url, timeout=30) for url in urls]
    try:
        for value in range(RUNS):
            while True:
                try:
                    answer = clients[value % 2].post(
                        "/api/workflow/failover_flow",
                        params={"idempotencyKey": f"run-{value}"},
                        json={"value": value},
                    )
                except httpx.HTTPError:
                    time.sleep(0.1)
                    continue
                if answer.status_code == 200:
                    ids[answer.text] = value
                    break
                assert answer.status_code == 503, answer.text
                time.sleep(float(answer.headers["Retry-After"]) / 4)
    finally:
        for client in clients:
            client.close()


def _completed(client: httpx.Client) -> int:
    found = client.get("/api/workflow/search", params={"status": "COMPLETED", "size": 0}).json()
    total: int = found["totalHits"]
    return total


def _completed_ids(client: httpx.Client) -> set[str]:
    found = client.get("/api/workflow/search", params={"status": "COMPLETED", "size": RUNS}).json()
    return {item["workflowId"] for item in found["results"]}


def test_killing_the_primary_and_promoting_its_standby_loses_and_repeats_nothing(
    tmp_path, postgres_url
):
    with cluster(standby=True) as (primary, standby), effects_schema(postgres_url) as schema:
        assert standby is not None
        env = {
            # A list of servers: Podium keeps to whichever accepts writes.
            "PODIUM_DATABASE_URL": f"{primary.url()},{standby.url()}",
            "PODIUM_SWEEP_INTERVAL_S": "0.5",
            "FAILOVER_DB_URL": postgres_url,
            "FAILOVER_SCHEMA": schema,
        }
        servers, urls = spawn_servers(2, tmp_path, env)
        workers = []
        clients = [httpx.Client(base_url=url, timeout=30) for url in urls]
        try:
            for url in urls:
                wait_healthy(url, timeout=60)
            setup = clients[0]
            assert setup.post("/api/metadata/taskdefs", json=task_defs()).status_code == 200
            assert setup.post("/api/metadata/workflow", json=flow()).status_code == 200
            workers = [
                spawn(
                    ["worker", "tests.e2e.failover_workers", "--server", ",".join(order)],
                    tmp_path / f"worker{i}.log",
                    env,
                )
                for i, order in enumerate((urls, urls[::-1]))
            ]
            ids: dict[str, int] = {}
            poster = threading.Thread(target=_post_runs, args=(urls, ids), daemon=True)
            poster.start()
            deadline = time.monotonic() + 120
            while _completed(clients[0]) < RUNS // 5:
                assert time.monotonic() < deadline, "no progress before the kill"
                time.sleep(0.05)
            done_before = _completed_ids(clients[0])
            accepted = _results_accepted(clients)
            assert accepted is not None
            primary.kill()
            killed_at = time.monotonic()
            assert len(done_before) < RUNS, "the kill came too late to test anything"
            standby.promote()
            promoted_s = time.monotonic() - killed_at
            while (now := _results_accepted(clients)) is None or now <= accepted:
                assert time.monotonic() - killed_at < 60, "no result accepted after the kill"
                time.sleep(0.05)
            first_result_s = time.monotonic() - killed_at

            poster.join(timeout=120)
            assert len(ids) == RUNS, f"only {len(ids)} runs started"
            deadline = time.monotonic() + 240
            while len(done := _completed_ids(clients[1])) < RUNS:
                assert time.monotonic() < deadline, f"only {len(done)} of {RUNS} runs completed"
                time.sleep(0.5)
            all_done_s = time.monotonic() - killed_at
            assert done_before <= done  # what was acknowledged before the kill survived it
            for run_id, value in ids.items():
                body = (
                    clients[0]
                    .get(f"/api/workflow/{run_id}", params={"includeTasks": "false"})
                    .json()
                )
                assert body["status"] == "COMPLETED", body
                assert body["output"] == {"value": expected(value)}, body
        finally:
            for client in clients:
                client.close()
            for worker in workers:
                stop(worker)
            for server in servers:
                stop(server)

        with psycopg.connect(postgres_url) as conn:
            conn.execute(f"SET search_path TO {schema}")
            repeated = conn.execute(
                "SELECT key, COUNT(*) FROM effects GROUP BY key HAVING COUNT(*) > 1"
            ).fetchall()
            effects = conn.execute("SELECT COUNT(DISTINCT key), COUNT(*) FROM effects").fetchone()
            deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()
        assert repeated == []
        assert effects == (RUNS * len(STEPS), RUNS * len(STEPS))
        assert deliveries is not None and deliveries[0] >= RUNS * len(STEPS)
        print(
            f"\nkill to promoted standby {promoted_s:.2f} s; kill to first accepted result "
            f"{first_result_s:.2f} s; kill to all {RUNS} runs completed {all_done_s:.1f} s; "
            f"{len(done_before)} runs completed before the kill; "
            f"{deliveries[0] - RUNS * len(STEPS)} steps delivered again"
        )
        assert first_result_s < 10, f"the first result after the kill took {first_result_s:.1f} s"
