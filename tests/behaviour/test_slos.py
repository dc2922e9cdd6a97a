"""SLOs on both stores, over runs recorded with a clock the test moves: their values, error
budgets and burn rates equal the numbers worked out by hand from those runs.

The app is used in-process, so every run's start, hand-out and result is at the time the test
set; no background loop runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from podium.server.app import create_app
from podium.server.retention import Retention
from podium.settings import Settings
from podium.store.base import Store
from tests.behaviour.clocked_app import Clock, new_store
from tests.conftest import StoreChoice

DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
NOW = T0 + 10 * DAY

CHECKOUT = {
    "name": "checkout",
    "version": 1,
    "tasks": [
        {
            "name": "slo_pay",
            "taskReferenceName": "pay",
            "compensation": {"name": "slo_refund"},
        },
        {"name": "slo_ship", "taskReferenceName": "ship"},
        {  # finished within the decision: no outcome of its own
            "name": "done",
            "taskReferenceName": "done",
            "type": "SET_VARIABLE",
            "inputParameters": {"shipped": True},
        },
    ],
}
TASK_DEFS = [
    {"name": "slo_pay", "retryCount": 0, "service": "payments"},
    {"name": "slo_ship", "retryCount": 0, "service": "shipping"},
    {"name": "slo_refund", "retryCount": 0, "service": "payments"},
]
SLOS = [
    {
        "name": "checkout-latency",
        "workflow": "checkout",
        "objective": {"latency": {"percentile": 90, "thresholdMs": 2000}},
        "window": "30d",
    },
    {
        "name": "checkout-success",
        "workflow": "checkout",
        "objective": {"success": {"target": 0.9, "countCompensatedAsFailure": True}},
        "window": "30d",
    },
    {
        "name": "checkout-lenient",
        "workflow": "checkout",
        "objective": {"success": {"target": 0.9, "countCompensatedAsFailure": False}},
        "window": "30d",
    },
    {
        "name": "pay-success",
        "workflow": "checkout",
        "step": "pay",
        "objective": {"success": {"target": 0.8}},
        "window": "30d",
    },
    {
        "name": "payments-latency",
        "service": "payments",
        "objective": {"latency": {"percentile": 50, "thresholdMs": 500}},
        "window": "30d",
    },
]


class Env:
    def __init__(self, api: httpx.AsyncClient, clock: Clock, store: Store) -> None:
        self.api, self.clock, self.store = api, clock, store

    async def one(self, task_type: str) -> dict[str, Any]:
        answer = await self.api.get(
            f"/api/tasks/poll/batch/{task_type}", params={"workerid": "w", "timeout": 0}
        )
        assert answer.status_code == 200, answer.text
        [task] = answer.json()
        return dict(task)

    async def finish(self, task: dict[str, Any], status: str = "COMPLETED") -> None:
        body = {
            "taskId": task["taskId"],
            "workflowInstanceId": task["workflowInstanceId"],
            "status": status,
            "workerId": "w",
        }
        answer = await self.api.post("/api/tasks", json=body)
        assert answer.status_code == 200, answer.text

    async def checkout(self, at: int, pay_ms: int, ship_ms: int, ship: str = "COMPLETED") -> str:
        """A run started at ``at``: pay takes ``pay_ms``, then ship ``ship_ms`` and ends
        ``ship``; a failed ship is compensated by a refund of 100 ms."""
        self.clock.at(at)
        answer = await self.api.post("/api/workflow/checkout", json={})
        assert answer.status_code == 200, answer.text
        run_id = answer.text
        pay = await self.one("slo_pay")
        self.clock.at(at + pay_ms)
        await self.finish(pay)
        shipped = await self.one("slo_ship")
        self.clock.at(at + pay_ms + ship_ms)
        await self.finish(shipped, ship)
        if ship != "COMPLETED":
            refund = await self.one("slo_refund")
            self.clock.at(at + pay_ms + ship_ms + 100)
            await self.finish(refund)
        return run_id

    async def status(self, name: str) -> dict[str, Any]:
        self.clock.at(NOW)
        answer = await self.api.get(f"/api/slos/{name}")
        assert answer.status_code == 200, answer.text
        status: dict[str, Any] = answer.json()["status"]
        return status


@pytest.fixture
async def env(store_choice: StoreChoice) -> AsyncIterator[Env]:
    store = new_store(store_choice)
    await store.open()
    clock = Clock(T0)
    app = create_app(Settings(), store=store)
    app.state.orchestrator.clock = clock
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://podium")
    answer = await api.post("/api/metadata/taskdefs", json=TASK_DEFS)
    assert answer.status_code == 200, answer.text
    answer = await api.post("/api/metadata/workflow", json=CHECKOUT)
    assert answer.status_code == 200, answer.text
    answer = await api.post("/api/slos", json=SLOS)
    assert answer.status_code == 200, answer.text
    try:
        yield Env(api, clock, store)
    finally:
        await api.aclose()
        await store.close()


async def record_runs(env: Env) -> None:
    """Ten runs; by hand:

    ============  ==========  =====  =====  =========  ============
    started       pay / ship  run    ends   pay        payments
    ============  ==========  =====  =====  =========  ============
    now-9d  (x6)  200 / 300   500    done   COMPLETED  200
    now-9d        200 / 2800  3000   done   COMPLETED  200
    now-2d        1000 / 1500 2500   done   COMPLETED  1000
    now-3h        300 / 200   600*   comp.  COMPLETED  300, 100
    now-2m        200 / 100   400*   comp.  COMPLETED  200, 100
    ============  ==========  =====  =====  =========  ============

    (* ship FAILED, then the refund's 100 ms: the run lasts pay + ship + 100.)
    """
    for i in range(6):
        await env.checkout(NOW - 9 * DAY + i * 10_000, 200, 300)
    await env.checkout(NOW - 9 * DAY + 100_000, 200, 2800)
    await env.checkout(NOW - 2 * DAY, 1000, 1500)
    await env.checkout(NOW - 3 * HOUR, 300, 200, "FAILED")
    await env.checkout(NOW - 2 * 60_000, 200, 100, "FAILED")


async def test_slo_values_budgets_and_burn_rates_match_a_hand_computation(env):
    await record_runs(env)

    # Latency: 10 runs, good if at most 2000 ms: all but the 3000 and 2500 ms ones: 8/10.
    # Target 0.9, so the budget is 0.1 and 0.2 of it was spent twice: 1 - 0.2/0.1 = -1.
    latency = await env.status("checkout-latency")
    assert latency["events"] == 10 and latency["goodEvents"] == 8
    assert latency["value"] == pytest.approx(0.8)
    assert latency["errorBudgetRemaining"] == pytest.approx(-1.0)
    # p90 by nearest rank: the 9th of the sorted durations (400 500x6 600 2500 3000): 2500.
    assert latency["percentileMs"] == 2500
    burn = latency["burnRates"]
    # 5m and 30m hold only the last run (400 ms, good); 1h too; 6h adds the 600 ms one;
    # 1d the same two; 3d adds the 2500 ms one: 1 bad of 3 = 0.333 / 0.1.
    assert burn["5m"]["events"] == 1 and burn["5m"]["burnRate"] == 0
    assert burn["6h"]["events"] == 2 and burn["6h"]["burnRate"] == 0
    assert burn["3d"]["events"] == 3
    assert burn["3d"]["burnRate"] == pytest.approx((1 / 3) / 0.1)
    assert burn["5m"]["windowMs"] == 5 * 60_000 and burn["3d"]["windowMs"] == 3 * DAY

    # Success, compensated counting as failure: 8 of 10 completed.
    success = await env.status("checkout-success")
    assert (success["events"], success["goodEvents"]) == (10, 8)
    assert success["errorBudgetRemaining"] == pytest.approx(-1.0)
    # The 5m window holds one compensated run: all bad, burn 1 / 0.1 = 10; 6h: 2 of 2 bad.
    assert success["burnRates"]["5m"]["burnRate"] == pytest.approx(10.0)
    assert success["burnRates"]["6h"]["burnRate"] == pytest.approx(10.0)
    # 3d: 1 good of 3: (2/3) / 0.1.
    assert success["burnRates"]["3d"]["burnRate"] == pytest.approx((2 / 3) / 0.1)

    # Compensated counting as success: 10 of 10, the whole budget left, nothing burning.
    lenient = await env.status("checkout-lenient")
    assert (lenient["events"], lenient["goodEvents"]) == (10, 10)
    assert lenient["errorBudgetRemaining"] == pytest.approx(1.0)
    assert all(w["burnRate"] == 0 for w in lenient["burnRates"].values())

    # The pay step always completed: 10 of 10.
    pay = await env.status("pay-success")
    assert (pay["scope"], pay["events"], pay["goodEvents"]) == ("step", 10, 10)

    # The payments service owns pay and refund: 12 attempts, good if at most 500 ms: all but
    # the 1000 ms pay: 11/12; p50 is the 6th of (100 100 200x8 300 1000): 200.
    payments = await env.status("payments-latency")
    assert (payments["scope"], payments["events"], payments["goodEvents"]) == ("service", 12, 11)
    assert payments["errorBudgetRemaining"] == pytest.approx(1 - (1 / 12) / 0.5)
    assert payments["percentileMs"] == 200


async def test_runs_leave_the_window_as_the_clock_moves_on(env):
    await record_runs(env)
    env.clock.at(NOW + 21 * DAY + 200_000)  # the first seven runs ended over 30 days ago
    answer = (await env.api.get("/api/slos/checkout-latency")).json()["status"]
    # Left: 2500 (bad), 600 and 400 (good).
    assert (answer["events"], answer["goodEvents"]) == (3, 2)
    assert answer["burnRates"]["5m"]["events"] == 0


async def test_retention_keeps_outcomes_for_the_longest_window_only(env, store_choice):
    await record_runs(env)
    # Runs may go at once, but outcomes stay while some SLO's 30-day window holds them.
    retention = Retention(env.store, max_age_days=0, batch=4, clock=env.clock)
    env.clock.at(NOW + 21 * DAY + 200_000)
    await retention.run_once(pause_s=0)
    # Left: the run of 2500 ms (run, pay, ship; its SET_VARIABLE has none) and the two
    # compensated ones (run, pay, ship, refund).
    [(left,)] = store_choice.query("SELECT COUNT(*) FROM slo_outcomes")
    assert left == 3 + 4 + 4
    answer = (await env.api.get("/api/slos/checkout-latency")).json()["status"]
    assert (answer["events"], answer["goodEvents"]) == (3, 2)


async def test_metrics_expose_every_slo_gauge(env):
    await record_runs(env)
    env.clock.at(NOW)
    text = (await env.api.get("/metrics")).text
    assert 'podium_slo_objective{slo="checkout-success"} 0.9' in text
    assert 'podium_slo_value{slo="checkout-success"} 0.8' in text
    assert 'podium_slo_error_budget_remaining{slo="checkout-lenient"} 1.0' in text
    assert 'podium_slo_burn_rate{slo="checkout-success",window="5m"} 10.0' in text


async def test_metrics_are_computed_once_per_interval(env):
    await record_runs(env)
    env.clock.at(NOW)
    before = (await env.api.get("/metrics")).text
    assert 'podium_slo_value{slo="checkout-success"} 0.8' in before
    await env.checkout(NOW + 1_000, 100, 100)  # a good run, 1.2 s later
    env.clock.at(NOW + 10_000)
    kept = (await env.api.get("/metrics")).text
    assert 'podium_slo_value{slo="checkout-success"} 0.8' in kept
    # The API computes afresh; the next scrape after 15 s too: 9 of 11.
    now = (await env.api.get("/api/slos/checkout-success")).json()["status"]
    assert (now["events"], now["goodEvents"]) == (11, 9)
    env.clock.at(NOW + 15_000)
    fresh = (await env.api.get("/metrics")).text
    assert f'podium_slo_value{{slo="checkout-success"}} {9 / 11}' in fresh


async def test_slos_are_versioned_and_bad_ones_refused_naming_the_field(env):
    again = await env.api.post("/api/slos", json=SLOS[0])
    assert again.json() == {"registered": [], "unchanged": ["checkout-latency"]}
    changed = {**SLOS[0], "objective": {"latency": {"percentile": 95, "thresholdMs": 2000}}}
    answer = await env.api.post("/api/slos", json=changed)
    assert answer.json()["registered"] == ["checkout-latency@2"]
    versions = (await env.api.get("/api/slos/checkout-latency/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["objective"]["latency"]["percentile"] == 90
    old = (await env.api.get("/api/slos/checkout-latency", params={"version": 1})).json()
    assert old["version"] == 1
    listed = (await env.api.get("/api/slos", params={"service": "payments"})).json()
    assert [s["name"] for s in listed] == ["payments-latency"]

    bad = {**SLOS[1], "name": "other", "objective": {"success": {"target": 1.5}}}
    answer = await env.api.post("/api/slos", json=[SLOS[2], bad])
    assert answer.status_code == 400
    assert answer.json()["field"] == "[1].objective.success.target"
    missing = await env.api.get("/api/slos/other")
    assert missing.status_code == 404
