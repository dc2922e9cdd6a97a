"""Two instances on one PostgreSQL database, ticking the same due schedules at the same
moment: each tick starts exactly one run, whichever instance takes it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg import sql

from podium.store.base import RunQuery
from podium.store.postgres import PostgresStore
from tests.behaviour.clocked_app import Clock
from tests.behaviour.test_schedules import MINUTE, QUICK, SLOW, T0, Env, metric, open_env
from tests.postgres import drop_schema, new_schema_name

SCHEDULES = 12


@pytest.fixture
async def instances(postgres_url: str) -> AsyncIterator[list[Env]]:
    schema = new_schema_name()
    stores = [PostgresStore(postgres_url, schema=schema, pool_size=4) for _ in range(2)]
    clock = Clock(T0 + 1_000)  # one wall clock, as two machines share one time
    envs: list[Env] = []
    try:
        for store in stores:
            await store.open()
            envs.append((await open_env(store, clock))[0])
        for flow in (QUICK, SLOW):
            answer = await envs[0].api.post(
                "/api/metadata/workflow", params={"overwrite": "true"}, json=flow
            )
            assert answer.status_code == 200, answer.text
        yield envs
    finally:
        for env in envs:
            await env.api.aclose()
        for store in stores:
            await store.close()
        drop_schema(postgres_url, schema)


async def test_two_instances_ticking_together_start_each_tick_once(instances):
    first, second = instances
    for n in range(SCHEDULES):
        body = {
            "name": f"shared-{n}",
            "cronExpression": "0 * * * * ?",
            "overlapPolicy": "ALLOW_ALL",
            # Half of them keep their runs running: they are looked at on every pass too.
            "startWorkflowRequest": {"name": "quick" if n % 2 else "slow"},
        }
        saved = await (first if n % 2 else second).api.post("/api/scheduler/schedules", json=body)
        assert saved.status_code == 200, saved.text
    ticks = 3
    for tick in range(1, ticks + 1):
        first.clock.at(T0 + tick * MINUTE + 10)
        # Each instance twice at once: four passes racing for the same schedules.
        await asyncio.gather(*(env.scheduler.tick_once() for env in (*instances, *instances)))

    total, runs = await first.orchestrator.search(RunQuery(size=1000), tasks=False)
    assert total == SCHEDULES * ticks
    per_tick = Counter((run.schedule_name, run.scheduled_time) for run in runs)
    assert set(per_tick.values()) == {1}
    assert {time for _, time in per_tick} == {T0 + t * MINUTE for t in range(1, ticks + 1)}
    found = await first.api.get("/api/scheduler/search/executions", params={"size": 1000})
    executions = found.json()["results"]
    assert len(executions) == SCHEDULES * ticks
    assert len({e["workflowId"] for e in executions}) == SCHEDULES * ticks
    started = sum(
        metric(env, "podium_schedule_ticks_started_total", schedule=f"shared-{n}")
        for env in instances
        for n in range(SCHEDULES)
    )
    assert started == SCHEDULES * ticks


async def test_a_schedule_another_instance_is_acting_on_is_left_to_it(instances, postgres_url):
    first, second = instances
    for name in ("held", "free"):
        body = {
            "name": name,
            "cronExpression": "0 * * * * ?",
            "startWorkflowRequest": {"name": "quick"},
        }
        saved = await first.api.post("/api/scheduler/schedules", json=body)
        assert saved.status_code == 200, saved.text
    first.clock.at(T0 + MINUTE + 10)
    schema = first.store.schema  # type: ignore[attr-defined]
    # Another instance's unit holds "held" (its row locked) while this one ticks.
    with psycopg.connect(postgres_url) as other:
        other.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        other.execute("SELECT 1 FROM schedules WHERE name = 'held' FOR UPDATE")
        await asyncio.wait_for(second.scheduler.tick_once(), timeout=10)  # never waits on it
        assert await _ticks(second, "held") == []
        assert await _ticks(second, "free") == [T0 + MINUTE]
    await second.scheduler.tick_once()
    await first.scheduler.tick_once()
    assert await _ticks(first, "held") == [T0 + MINUTE]
    assert await _ticks(first, "free") == [T0 + MINUTE]


async def _ticks(env: Env, schedule: str) -> list[int]:
    found = await env.api.get(
        "/api/scheduler/search/executions", params={"query": f"scheduleName={schedule}"}
    )
    return [e["scheduledTime"] for e in found.json()["results"]]
