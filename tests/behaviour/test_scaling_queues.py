"""Autoscaling signals on both stores: each queue's ready depth and the age of its oldest
waiting task, in ``/api/scaling/queues`` (the shape KEDA's metrics-api scaler reads) and in
``/metrics``, from enqueue times the test's clock sets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.behaviour.clocked_app import ClockedApp, clocked_app, ok, one_step, poll, register, start
from tests.conftest import StoreChoice

T0 = 1_767_225_600_000
SECOND = 1000


@pytest.fixture
async def env(store_choice: StoreChoice) -> AsyncIterator[ClockedApp]:
    async with clocked_app(store_choice, T0) as made:
        for flow, task_type in (("resizing", "resize"), ("encoding", "encode")):
            await register(made.api, one_step(flow, task_type), [{"name": task_type}])
        yield made


async def _metric(env: ClockedApp, name: str, task_type: str) -> float | None:
    text = (await env.api.get("/metrics")).text
    prefix = f'{name}{{task_type="{task_type}"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return None


async def test_depth_and_oldest_age_per_task_type(env):
    await start(env.api, "resizing")  # ready at T0
    env.clock.at(T0 + 5 * SECOND)
    await start(env.api, "resizing")
    env.clock.at(T0 + 10 * SECOND)
    await start(env.api, "encoding")
    env.clock.at(T0 + 30 * SECOND)

    assert ok(await env.api.get("/api/scaling/queues")) == {
        "queues": {
            "encode": {"depth": 1, "oldestAgeSeconds": 20.0},
            "resize": {"depth": 2, "oldestAgeSeconds": 30.0},
        }
    }
    assert ok(await env.api.get("/api/scaling/queues/resize")) == {
        "depth": 2,
        "oldestAgeSeconds": 30.0,
    }
    assert await _metric(env, "podium_queue_depth", "resize") == 2
    assert await _metric(env, "podium_queue_oldest_age_seconds", "resize") == 30
    assert await _metric(env, "podium_queue_oldest_age_seconds", "encode") == 20

    # A task handed out no longer waits: the oldest left is the one ready at T0 + 5 s.
    (claimed,) = await poll(env.api, "resize")
    env.clock.at(T0 + 40 * SECOND)
    assert ok(await env.api.get("/api/scaling/queues/resize")) == {
        "depth": 1,
        "oldestAgeSeconds": 35.0,
    }
    assert await _metric(env, "podium_queue_depth", "resize") == 1
    assert await _metric(env, "podium_queue_oldest_age_seconds", "resize") == 35

    # An emptied queue leaves no stale sample, and reads as zero to the scaler.
    await poll(env.api, "encode")
    assert await _metric(env, "podium_queue_depth", "encode") is None
    assert ok(await env.api.get("/api/scaling/queues/encode")) == {
        "depth": 0,
        "oldestAgeSeconds": 0.0,
    }
    assert "encode" not in ok(await env.api.get("/api/scaling/queues"))["queues"]
    assert claimed["taskType"] == "resize"


async def test_a_task_waiting_out_a_retry_delay_is_not_counted(env):
    await register(
        env.api,
        one_step("resizing", "resize"),
        [{"name": "resize", "retryCount": 1, "retryDelaySeconds": 60, "retryLogic": "FIXED"}],
    )
    await start(env.api, "resizing")
    (task,) = await poll(env.api, "resize")
    failed = {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": "FAILED",
        "workerId": "w1",
    }
    assert (await env.api.post("/api/tasks", json=failed)).status_code == 200
    assert ok(await env.api.get("/api/scaling/queues/resize"))["depth"] == 0
    env.clock.at(T0 + 90 * SECOND)  # the retry became ready at T0 + 60 s
    assert ok(await env.api.get("/api/scaling/queues/resize")) == {
        "depth": 1,
        "oldestAgeSeconds": 30.0,
    }
