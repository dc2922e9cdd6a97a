"""``retryWhenBreakerCloses`` on both stores: the runs an open breaker failed at once are
retried when it closes, once; a run that failed for its own reasons is not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from podium.server.breaker_recovery import BreakerRecovery
from tests.behaviour.clocked_app import (
    ClockedApp,
    clocked_app,
    finish,
    ok,
    poll,
    register,
    run_of,
    start,
)
from tests.conftest import StoreChoice

T0 = 1_767_225_600_000
SECOND = 1000
FLOW = {
    "name": "checkout",
    "tasks": [{"name": "charge", "taskReferenceName": "c", "type": "SIMPLE"}],
}


def _payment(retry: bool) -> dict[str, object]:
    return {
        "name": "payment",
        "owner": "Payments",
        "circuitBreaker": {"failureThreshold": 1, "openSeconds": 30},
        "onCircuitOpen": "fail",
        "retryWhenBreakerCloses": retry,
    }


@pytest.fixture
async def env(store_choice: StoreChoice) -> AsyncIterator[ClockedApp]:
    async with clocked_app(store_choice, T0) as made:
        await register(made.api, FLOW, [{"name": "charge", "service": "payment", "retryCount": 0}])
        yield made


async def _open_then_fail_fast(env: ClockedApp) -> tuple[str, list[str]]:
    """A run whose failure opens the breaker, then two runs it fails at once."""
    broken = await start(env.api, "checkout")
    (task,) = await poll(env.api, "charge")
    await finish(env.api, task, "FAILED", "gateway 503")
    env.clock.at(T0 + SECOND)
    fast = [await start(env.api, "checkout") for _ in range(2)]
    assert await poll(env.api, "charge", count=5) == []
    for run_id in (broken, *fast):
        assert (await run_of(env.api, run_id))["status"] == "FAILED"
    assert (
        "circuit breaker of service payment is open"
        in (await run_of(env.api, fast[0]))["reasonForIncompletion"]
    )
    return broken, fast


async def _close(env: ClockedApp) -> str:
    """After openSeconds a trial call succeeds: the breaker closes."""
    env.clock.at(T0 + 40 * SECOND)
    trial = await start(env.api, "checkout")
    (task,) = await poll(env.api, "charge")
    await finish(env.api, task, "COMPLETED")
    breaker = ok(await env.api.get("/api/services/payment"))["breaker"]
    assert breaker["state"] == "CLOSED"
    return trial


async def test_runs_failed_by_the_open_breaker_are_retried_once_it_closes(env):
    ok(await env.api.post("/api/services", json=_payment(retry=True)))
    recovery = BreakerRecovery(env.app.state.orchestrator)
    broken, fast = await _open_then_fail_fast(env)
    assert await recovery.recover_once() == []  # still open: nothing to do yet

    await _close(env)
    env.clock.at(T0 + 41 * SECOND)
    assert sorted(await recovery.recover_once()) == sorted(fast)
    for run_id in fast:
        assert (await run_of(env.api, run_id))["status"] == "RUNNING"
    assert (await run_of(env.api, broken))["status"] == "FAILED"
    assert {t["workflowInstanceId"] for t in await poll(env.api, "charge", count=5)} == set(fast)
    assert await recovery.recover_once() == []  # never twice for one closing


async def test_a_service_that_does_not_ask_keeps_its_failed_runs(env):
    ok(await env.api.post("/api/services", json=_payment(retry=False)))
    recovery = BreakerRecovery(env.app.state.orchestrator)
    _, fast = await _open_then_fail_fast(env)
    await _close(env)
    assert await recovery.recover_once() == []
    assert (await run_of(env.api, fast[0]))["status"] == "FAILED"


async def test_an_operators_reset_closes_the_episode_too(env):
    ok(await env.api.post("/api/services", json=_payment(retry=True)))
    recovery = BreakerRecovery(env.app.state.orchestrator)
    broken, fast = await _open_then_fail_fast(env)
    env.clock.at(T0 + 5 * SECOND)
    ok(await env.api.post("/api/services/payment/breaker/reset"))
    assert sorted(await recovery.recover_once()) == sorted(fast)
    assert (await run_of(env.api, broken))["status"] == "FAILED"
