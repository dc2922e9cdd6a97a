"""Several server instances on one PostgreSQL database: they share work without stepping on
each other, and a long poll parked on one wakes when another queues its task."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from podium.store.migrations import migrations
from podium.store.postgres import migrate
from podium.testing import PodiumTestServer
from tests.behaviour.helpers import complete, poll, register, start, wait_status
from tests.postgres import drop_schema, new_schema_name

FLOW = {
    "name": "shared",
    "tasks": [{"name": "shared_step", "taskReferenceName": "step", "type": "SIMPLE"}],
}


@pytest.fixture
def schema(postgres_url):
    name = new_schema_name()
    try:
        yield name
    finally:
        drop_schema(postgres_url, name)


@pytest.fixture
def two_servers(postgres_url, schema):
    # Long sweep intervals: only the notifications between instances can wake a poll quickly.
    first = PodiumTestServer(postgres_url, database_schema=schema, sweep_interval_s=30)
    second = PodiumTestServer(postgres_url, database_schema=schema, sweep_interval_s=30)
    with first, second:
        yield first, second


def test_a_poll_on_one_instance_wakes_when_another_queues_the_task(two_servers):
    first, second = two_servers
    with (
        httpx.Client(base_url=first.url, timeout=30) as a,
        httpx.Client(base_url=second.url, timeout=30) as b,
    ):
        register(a, FLOW)
        got: list[list[dict[str, object]]] = []
        parked = threading.Thread(
            target=lambda: got.append(poll(b, "shared_step", timeout_ms=10_000))
        )
        parked.start()
        time.sleep(0.5)  # the poll is parked on the second instance by now
        began = time.monotonic()
        run_id = start(a, "shared")
        parked.join(timeout=15)
        waited = time.monotonic() - began
        assert got and len(got[0]) == 1, got
        assert got[0][0]["workflowInstanceId"] == run_id
        assert waited < 3, f"the poll took {waited:.1f} s to wake"


def test_two_instances_never_hand_out_one_task_twice(two_servers):
    first, second = two_servers
    urls = [first.url, second.url]
    with httpx.Client(base_url=first.url, timeout=30) as a:
        register(a, FLOW)
        run_ids = [start(a, "shared", {"n": n}) for n in range(120)]

    def drain(index: int) -> list[str]:
        seen: list[str] = []
        with httpx.Client(base_url=urls[index % 2], timeout=30) as client:
            while tasks := poll(client, "shared_step", worker=f"w{index}", count=5, timeout_ms=300):
                seen.extend(task["taskId"] for task in tasks)
        return seen

    with ThreadPoolExecutor(8) as pool:
        handed = [task_id for batch in pool.map(drain, range(8)) for task_id in batch]
    counts = Counter(handed)
    assert len(counts) == len(run_ids)
    assert max(counts.values()) == 1, [t for t, c in counts.items() if c > 1]


def test_a_run_advanced_through_both_instances_completes(two_servers):
    first, second = two_servers
    flow = {
        "name": "zigzag",
        "tasks": [
            {"name": "zig", "taskReferenceName": f"s{i}", "type": "SIMPLE"} for i in range(6)
        ],
    }
    with (
        httpx.Client(base_url=first.url, timeout=30) as a,
        httpx.Client(base_url=second.url, timeout=30) as b,
    ):
        register(a, flow)
        run_id = start(b, "zigzag")
        for i in range(6):
            client = (a, b)[i % 2]
            (task,) = poll(client, "zig")
            complete(client, task, {"i": i})
        body = wait_status(a, run_id)
        assert body["status"] == "COMPLETED"
        assert [t["outputData"] for t in body["tasks"]] == [{"i": i} for i in range(6)]


def test_instances_starting_together_apply_each_migration_once(postgres_url, schema):
    with ThreadPoolExecutor(4) as pool:
        applied = list(pool.map(lambda _: migrate(postgres_url, schema), range(4)))
    assert sorted(len(versions) for versions in applied) == [0, 0, 0, len(migrations("postgres"))]
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(
            f"SELECT version, COUNT(*) FROM {schema}.schema_migrations GROUP BY version"
        ).fetchall()
    assert rows and all(count == 1 for _, count in rows)
