"""Two instances dispatching from one PostgreSQL database: every delivery is handled by one
of them, once (the delivery row is locked with SKIP LOCKED for the handler's unit of work)."""

from __future__ import annotations

import httpx
import pytest

from podium.testing import PodiumTestServer
from tests.behaviour.event_helpers import add_handler, eventually
from tests.behaviour.helpers import register
from tests.postgres import drop_schema, new_schema_name


@pytest.fixture
def two_servers(postgres_url):
    schema = new_schema_name()
    # Short sleeps: both dispatchers look for due deliveries all the time, so they compete.
    first = PodiumTestServer(postgres_url, database_schema=schema, sweep_interval_s=0.05)
    second = PodiumTestServer(postgres_url, database_schema=schema, sweep_interval_s=0.05)
    try:
        with first, second:
            yield first, second
    finally:
        drop_schema(postgres_url, schema)


def test_each_delivery_is_handled_once_across_instances(two_servers):
    first, second = two_servers
    with (
        httpx.Client(base_url=first.url, timeout=30) as a,
        httpx.Client(base_url=second.url, timeout=30) as b,
    ):
        register(
            a, {"name": "fan", "tasks": [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}]}
        )
        add_handler(
            a,
            {
                "name": "starter",
                "event": "tick",
                "actions": [{"action": "start_workflow", "start_workflow": {"name": "fan"}}],
            },
        )
        for n in range(60):
            (a if n % 2 else b).post("/api/events/tick", json={"id": f"t-{n}", "payload": {}})

        def all_done() -> bool:
            return all(
                d["status"] == "DONE"
                for n in range(60)
                for d in a.get(f"/api/events/id/t-{n}").json()["deliveries"]
            )

        eventually(all_done, timeout=60, what="every delivery to be done")
        attempts = [
            a.get(f"/api/events/id/t-{n}").json()["deliveries"][0]["attempts"] for n in range(60)
        ]
        assert attempts == [1] * 60
        runs = a.get("/api/workflow/search", params={"name": "fan", "size": 500}).json()
        assert runs["totalHits"] == 60
