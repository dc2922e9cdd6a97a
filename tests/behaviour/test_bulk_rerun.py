"""Recovery in bulk on both stores: a dry run lists exactly the runs the filter picks (by
blamed service, status, end time, workflow and reason), and the retry retries exactly those,
not a run that failed after the dry run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.behaviour.clocked_app import (
    ClockedApp,
    clocked_app,
    finish,
    ok,
    one_step,
    poll,
    register,
    run_of,
    start,
)
from tests.conftest import StoreChoice

T0 = 1_767_225_600_000
MINUTE = 60_000
HOUR = 60 * MINUTE


@pytest.fixture
async def env(store_choice: StoreChoice) -> AsyncIterator[ClockedApp]:
    async with clocked_app(store_choice, T0) as made:
        services = [{"name": "payment", "owner": "Payments"}, {"name": "shipping", "owner": "Ops"}]
        ok(await made.api.post("/api/services", json=services))
        await register(
            made.api, one_step("checkout", "charge"), [{"name": "charge", "service": "payment"}]
        )
        await register(
            made.api, one_step("dispatch", "ship"), [{"name": "ship", "service": "shipping"}]
        )
        yield made


async def _ended(env: ClockedApp, flow: str, task_type: str, at: int, status: str, why: str) -> str:
    """A run of ``flow`` whose one task ends ``status`` at ``at``."""
    env.clock.at(at - 1000)
    run_id = await start(env.api, flow)
    (task,) = await poll(env.api, task_type)
    assert task["workflowInstanceId"] == run_id
    env.clock.at(at)
    await finish(env.api, task, status, why)
    return run_id


async def _rerun(env: ClockedApp, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = ok(await env.api.post("/api/bulk/rerun", json=body))
    return answer


async def test_the_retry_takes_exactly_the_runs_the_dry_run_listed(env):
    terminal = "FAILED_WITH_TERMINAL_ERROR"
    old = await _ended(env, "checkout", "charge", T0, terminal, "card declined")
    now = T0 + 3 * HOUR
    first = await _ended(env, "checkout", "charge", now - 90 * MINUTE, terminal, "card declined")
    second = await _ended(env, "checkout", "charge", now - 10 * MINUTE, terminal, "gateway 503")
    shipped = await _ended(env, "dispatch", "ship", now - 5 * MINUTE, terminal, "no truck")
    done = await _ended(env, "checkout", "charge", now - 4 * MINUTE, "COMPLETED", "")
    env.clock.at(now)

    flt = {"service": "payment", "status": ["FAILED"], "since": "2h"}
    listed = await _rerun(env, {"filter": flt, "dryRun": True})
    assert listed["runIds"] == [second, first]  # the latest to end first
    assert listed["truncated"] is False
    assert listed["filter"]["since"] == now - 2 * HOUR
    shown = {run["workflowId"]: run for run in listed["runs"]}
    assert shown[second]["service"] == "payment"
    assert shown[second]["workflowName"] == "checkout"
    assert shown[second]["status"] == "FAILED"
    assert shown[second]["endTime"] == now - 10 * MINUTE
    assert "gateway 503" in shown[second]["reason"]
    # A dry run changes nothing.
    assert (await run_of(env.api, first))["status"] == "FAILED"

    # Another payment run fails after the dry run: the retry leaves it alone.
    env.clock.at(now + MINUTE)
    late = await _ended(env, "checkout", "charge", now + 2 * MINUTE, terminal, "card declined")
    answer = await _rerun(env, {"runIds": listed["runIds"], "filter": flt})
    assert answer == {"retried": [second, first], "refused": {}}
    for run_id in (first, second):
        assert (await run_of(env.api, run_id))["status"] == "RUNNING"
    for run_id in (old, late, shipped):
        assert (await run_of(env.api, run_id))["status"] == "FAILED"
    assert (await run_of(env.api, done))["status"] == "COMPLETED"
    retried = {task["workflowInstanceId"] for task in await poll(env.api, "charge", count=10)}
    assert retried == {first, second}

    # Sent again, the runs no longer fit the filter: each is refused, saying why.
    again = await _rerun(env, {"runIds": [first, "no-such-run"], "filter": flt})
    assert again["retried"] == []
    assert "RUNNING" in again["refused"][first]
    assert "no-such-run" in again["refused"]["no-such-run"]


async def test_filters_by_workflow_reason_until_and_status(env):
    terminal = "FAILED_WITH_TERMINAL_ERROR"
    declined = await _ended(env, "checkout", "charge", T0 + MINUTE, terminal, "card declined")
    await _ended(env, "checkout", "charge", T0 + 2 * MINUTE, terminal, "gateway 503")
    shipped = await _ended(env, "dispatch", "ship", T0 + 3 * MINUTE, terminal, "no truck")
    env.clock.at(T0 + 4 * MINUTE)
    stopped = await start(env.api, "dispatch")
    ok(await env.api.delete(f"/api/workflow/{stopped}", params={"reason": "operator"}))
    env.clock.at(T0 + 10 * MINUTE)

    async def ids(flt: dict[str, Any]) -> list[str]:
        found: list[str] = (await _rerun(env, {"filter": flt, "dryRun": True}))["runIds"]
        return found

    assert await ids({"reasonContains": "DECLINED"}) == [declined]
    assert await ids({"workflow": "dispatch"}) == [shipped]
    assert await ids({"workflow": "dispatch", "status": "FAILED,TERMINATED"}) == [stopped, shipped]
    assert await ids({"service": "shipping", "status": ["TERMINATED"]}) == []
    assert await ids({"until": T0 + MINUTE}) == [declined]
    assert len(await ids({})) == 3
    listed = await _rerun(env, {"filter": {}, "dryRun": True, "limit": 2})
    assert len(listed["runIds"]) == 2 and listed["truncated"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filter": {"servce": "payment"}, "dryRun": True}, "filter.servce"),
        ({"filter": {"status": ["RUNNING"]}, "dryRun": True}, "filter.status"),
        ({"filter": {"since": "a while"}, "dryRun": True}, "filter.since"),
        ({"filter": {"service": 3}, "dryRun": True}, "filter.service"),
        ({"filter": {"service": "payment"}}, "runIds"),
        ({"runIds": "abc"}, "runIds"),
        ({"runIds": [], "dryRun": "yes"}, "dryRun"),
        ({"filter": {}, "dryRun": True, "limit": 0}, "limit"),
        ({"ids": []}, "ids"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(env, body, field):
    run_id = await _ended(
        env, "checkout", "charge", T0 + MINUTE, "FAILED_WITH_TERMINAL_ERROR", "no"
    )
    answer = await env.api.post("/api/bulk/rerun", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert (await run_of(env.api, run_id))["status"] == "FAILED"
