"""Schedules on both stores, driven by a clock the test moves: each tick starts one run, and
the overlap, catch-up and pause policies do what they say.

The app is used in-process without its lifespan, so no background loop ticks: every pass is
the test's own ``scheduler.tick_once()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from podium.engine.state import TaskStatus
from podium.server.app import create_app
from podium.server.orchestrator import Orchestrator
from podium.server.schedule_ticks import ScheduleUnit, tick_key
from podium.server.scheduler import Scheduler
from podium.settings import Settings
from podium.store.base import Store
from tests.behaviour.clocked_app import Clock, new_store
from tests.conftest import StoreChoice

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a whole minute
MINUTE = 60_000
EVERY_MINUTE = "0 * * * * ?"

QUICK = {  # ends as it starts: system steps only
    "name": "quick",
    "version": 1,
    "tasks": [
        {
            "name": "mark",
            "taskReferenceName": "mark",
            "type": "SET_VARIABLE",
            "inputParameters": {"done": True},
        }
    ],
}
SLOW = {  # runs until its worker answers
    "name": "slow",
    "version": 1,
    "tasks": [{"name": "sched_step", "taskReferenceName": "step", "type": "SIMPLE"}],
}


@dataclass
class Env:
    api: httpx.AsyncClient
    orchestrator: Orchestrator
    scheduler: Scheduler
    clock: Clock
    store: Store


async def open_env(store: Store, clock: Clock) -> tuple[Env, httpx.AsyncClient]:
    app = create_app(Settings(), store=store)
    orchestrator: Orchestrator = app.state.orchestrator
    orchestrator.clock = clock
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://podium")
    return Env(api, orchestrator, app.state.scheduler, clock, store), api


@pytest.fixture
async def env(store_choice: StoreChoice) -> AsyncIterator[Env]:
    store = new_store(store_choice)
    await store.open()
    made, api = await open_env(store, Clock(T0 + 1_000))
    for flow in (QUICK, SLOW):
        answer = await api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=flow)
        assert answer.status_code == 200, answer.text
    try:
        yield made
    finally:
        await api.aclose()
        await store.close()


async def save(env: Env, name: str, workflow: str = "slow", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "cronExpression": EVERY_MINUTE,
        "startWorkflowRequest": {"name": workflow, "input": {"from": name}},
        **fields,
    }
    answer = await env.api.post("/api/scheduler/schedules", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def tick_at(env: Env, ms: int) -> int | None:
    env.clock.at(ms)
    return await env.scheduler.tick_once()


async def runs_of(env: Env, schedule: str) -> list[dict[str, Any]]:
    """The schedule's runs, oldest tick first, read back through the API."""
    found = await env.api.get(
        "/api/scheduler/search/executions",
        params={"query": f"scheduleName={schedule}", "size": 1000, "sort": "scheduledTime:ASC"},
    )
    assert found.status_code == 200, found.text
    runs = []
    for execution in found.json()["results"]:
        if execution["workflowId"] is not None:
            answer = await env.api.get(f"/api/workflow/{execution['workflowId']}")
            assert answer.status_code == 200, answer.text
            runs.append(answer.json())
    return runs


async def ticks_of(env: Env, schedule: str) -> list[tuple[int, str]]:
    found = await env.api.get(
        "/api/scheduler/search/executions",
        params={"query": f"scheduleName={schedule}", "sort": "scheduledTime:ASC"},
    )
    return [(e["scheduledTime"], e["tickState"]) for e in found.json()["results"]]


async def finish(env: Env, run_id: str, status: TaskStatus = TaskStatus.COMPLETED) -> None:
    """The worker answers the run's one task."""
    view = await env.orchestrator.get_run(run_id)
    (task,) = [t for t in view.state.tasks if t.status.is_active]
    claimed = await env.orchestrator.poll("sched_step", "w1", 20, 0)
    assert task.task_id in {c.task.task_id for c in claimed}
    for other in claimed:
        if other.task.task_id != task.task_id:  # handed back for the runs still running
            await env.orchestrator.update_task(
                other.task.task_id, TaskStatus.IN_PROGRESS, worker_id="w1", callback_after_s=0
            )
    await env.orchestrator.update_task(task.task_id, status, worker_id="w1")


def metric(env: Env, name: str, **labels: str) -> float:
    value = env.orchestrator.observer.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


# ---- ticking -----------------------------------------------------------------------------


async def test_a_cron_schedule_starts_one_run_per_tick(env):
    saved = await save(env, "every-minute", "quick")
    assert saved["nextRunTime"] == T0 + MINUTE
    assert await tick_at(env, T0 + 30_000) == T0 + MINUTE  # nothing due yet
    assert await runs_of(env, "every-minute") == []
    assert await tick_at(env, T0 + MINUTE + 250) == T0 + 2 * MINUTE
    assert await tick_at(env, T0 + MINUTE + 500) == T0 + 2 * MINUTE  # the same tick again
    await tick_at(env, T0 + 2 * MINUTE + 10)
    runs = await runs_of(env, "every-minute")
    assert [(r["scheduleName"], r["scheduledTime"]) for r in runs] == [
        ("every-minute", T0 + MINUTE),
        ("every-minute", T0 + 2 * MINUTE),
    ]
    assert [r["status"] for r in runs] == ["COMPLETED", "COMPLETED"]
    assert runs[0]["input"] == {"from": "every-minute"}
    trace = (await env.api.get(f"/api/trace/{runs[0]['workflowId']}")).json()
    (node,) = [n for n in trace["nodes"] if n["kind"] == "workflow"]
    assert (node["scheduleName"], node["scheduledTime"]) == ("every-minute", T0 + MINUTE)
    assert await ticks_of(env, "every-minute") == [
        (T0 + MINUTE, "COMPLETED"),
        (T0 + 2 * MINUTE, "COMPLETED"),
    ]
    shown = (await env.api.get("/api/scheduler/schedules/every-minute")).json()
    assert [r["scheduledTime"] for r in shown["lastRuns"]] == [T0 + 2 * MINUTE, T0 + MINUTE]
    assert shown["nextRunTime"] == T0 + 3 * MINUTE
    started = "podium_schedule_ticks_started_total"
    assert metric(env, started, schedule="every-minute") == 2
    late = "podium_schedule_late_seconds_sum"
    assert metric(env, late, schedule="every-minute") == pytest.approx(0.26)


async def test_an_interval_schedule_ticks_from_its_start_time(env):
    await save(
        env,
        "interval",
        "quick",
        cronExpression=None,
        intervalSeconds=90,
        scheduleStartTime=T0,
    )
    await tick_at(env, T0 + 90_000)
    await tick_at(env, T0 + 180_000)
    assert [t for t, _ in await ticks_of(env, "interval")] == [T0 + 90_000, T0 + 180_000]


async def test_a_restarted_scheduler_does_not_start_a_tick_twice(env, store_choice):
    await save(env, "nightly", "slow")
    # The tick's run was started under its key, and the instance went down before it
    # recorded the tick.
    first = await env.orchestrator.start_run(
        "slow", input={"from": "nightly"}, idempotency_key=tick_key("nightly", T0 + MINUTE)
    )
    store = new_store(store_choice)
    await store.open()
    try:
        again, api = await open_env(store, Clock(T0 + MINUTE + 100))
        await again.scheduler.tick_once()
        await again.scheduler.tick_once()
        await api.aclose()
    finally:
        await store.close()
    found = await env.api.get("/api/scheduler/search/executions")
    (execution,) = found.json()["results"]
    assert execution["workflowId"] == first
    assert (execution["scheduledTime"], execution["state"]) == (T0 + MINUTE, "EXECUTED")
    total, _ = await env.orchestrator.search(_by_name("slow"), tasks=False)
    assert total == 1


def _by_name(name: str) -> Any:
    from podium.store.base import RunQuery

    return RunQuery(name=name)


# ---- overlap -----------------------------------------------------------------------------


async def _three_ticks(env: Env, policy: str) -> list[str]:
    await save(env, "o", "slow", overlapPolicy=policy)
    for n in (1, 2, 3):
        await tick_at(env, T0 + n * MINUTE)
    return [state for _, state in await ticks_of(env, "o")]


async def test_skip_starts_nothing_while_a_run_is_running(env):
    assert await _three_ticks(env, "SKIP") == ["RUNNING", "SKIPPED", "SKIPPED"]
    assert metric(env, "podium_schedule_ticks_skipped_total", schedule="o", reason="overlap") == 2


async def test_buffer_one_keeps_one_tick_for_when_the_run_ends(env):
    assert await _three_ticks(env, "BUFFER_ONE") == ["RUNNING", "BUFFERED", "SKIPPED"]
    (first,) = await runs_of(env, "o")
    await finish(env, first["workflowId"])
    await tick_at(env, T0 + 3 * MINUTE + 5_000)
    assert await ticks_of(env, "o") == [
        (T0 + MINUTE, "COMPLETED"),
        (T0 + 2 * MINUTE, "RUNNING"),
        (T0 + 3 * MINUTE, "SKIPPED"),
    ]
    second = (await runs_of(env, "o"))[1]
    assert (second["scheduledTime"], second["status"]) == (T0 + 2 * MINUTE, "RUNNING")


async def test_buffer_all_starts_each_buffered_tick_in_turn(env):
    assert await _three_ticks(env, "BUFFER_ALL") == ["RUNNING", "BUFFERED", "BUFFERED"]
    for n in (1, 2):
        runs = await runs_of(env, "o")
        await finish(env, runs[-1]["workflowId"])
        await tick_at(env, T0 + 3 * MINUTE + n * 1_000)
    assert [state for _, state in await ticks_of(env, "o")] == [
        "COMPLETED",
        "COMPLETED",
        "RUNNING",
    ]


@pytest.mark.parametrize(
    ("policy", "ended", "run_status"),
    # A cancel undoes the run's completed steps first (it has none to undo here).
    [("CANCEL_OTHER", "CANCELLED", "COMPENSATED"), ("TERMINATE_OTHER", "TERMINATED", "TERMINATED")],
)
async def test_cancel_and_terminate_other_end_the_running_run_first(env, policy, ended, run_status):
    assert await _three_ticks(env, policy) == [ended, ended, "RUNNING"]
    runs = await runs_of(env, "o")
    assert [r["status"] for r in runs] == [run_status, run_status, "RUNNING"]
    assert policy in runs[0]["reasonForIncompletion"]
    shown = (await env.api.get("/api/scheduler/schedules/o")).json()
    assert shown["consecutiveFailures"] == 0  # ended on purpose, not failed


async def test_allow_all_starts_every_tick(env):
    assert await _three_ticks(env, "ALLOW_ALL") == ["RUNNING", "RUNNING", "RUNNING"]


# ---- catch-up ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("ALL", [5, 10, 15, 20, 25]), ("LATEST", [25]), ("NONE", [])],
)
async def test_catch_up_after_a_gap(env, policy, expected):
    await save(env, "c", "quick", cronExpression="0 */5 * * * ?", catchupPolicy=policy)
    # Nothing ticked for 25 minutes and a half: the last tick is 90 s old.
    await tick_at(env, T0 + 25 * MINUTE + 90_000)
    assert [(t - T0) // MINUTE for t, _ in await ticks_of(env, "c")] == expected
    missed = metric(env, "podium_schedule_ticks_missed_total", schedule="c")
    assert missed == 5 - len(expected)
    await tick_at(env, T0 + 30 * MINUTE)  # back on time: the tick runs whatever the policy
    assert (await ticks_of(env, "c"))[-1] == (T0 + 30 * MINUTE, "COMPLETED")


async def test_a_catch_up_window_drops_ticks_older_than_it(env):
    await save(env, "w", "quick", catchupPolicy="ALL", catchupWindowSeconds=150)
    await tick_at(env, T0 + 5 * MINUTE + 30_000)
    assert [(t - T0) // MINUTE for t, _ in await ticks_of(env, "w")] == [3, 4, 5]


async def test_jitter_delays_a_tick_by_the_same_amount_every_time(env):
    await save(env, "j", "quick", jitterSeconds=30)
    shown = (await env.api.get("/api/scheduler/schedules/j")).json()
    assert shown["jitterSeconds"] == 30
    wake = await tick_at(env, T0 + MINUTE - 1)
    assert wake is not None and T0 + MINUTE <= wake <= T0 + MINUTE + 30_000
    if wake > T0 + MINUTE:
        assert await tick_at(env, wake - 1) == wake  # not started before its jitter
        assert await ticks_of(env, "j") == []
    await tick_at(env, wake)
    assert await ticks_of(env, "j") == [(T0 + MINUTE, "COMPLETED")]
    (run,) = await runs_of(env, "j")
    assert run["scheduledTime"] == T0 + MINUTE and run["createTime"] == wake


# ---- backfill, pause, versions -----------------------------------------------------------


async def test_a_backfill_repeated_starts_each_tick_once(env):
    await save(env, "b", "slow")
    env.clock.at(T0 + 10 * MINUTE)
    body = {"startTime": T0 + 2 * MINUTE, "endTime": T0 + 4 * MINUTE, "overlapPolicy": "ALLOW_ALL"}
    first = await env.api.post("/api/scheduler/schedules/b/backfill", json=body)
    assert first.status_code == 200, first.text
    ticks = [T0 + n * MINUTE for n in (2, 3, 4)]
    assert first.json() == {"scheduled": ticks, "started": ticks}
    again = await env.api.post("/api/scheduler/schedules/b/backfill", json=body)
    assert again.json() == {"scheduled": ticks, "started": []}
    runs = await runs_of(env, "b")
    assert [r["scheduledTime"] for r in runs] == ticks
    total, _ = await env.orchestrator.search(_by_name("slow"), tasks=False)
    assert total == 3
    bad = await env.api.post(
        "/api/scheduler/schedules/b/backfill", json={**body, "overlapPolicy": "SOMETIMES"}
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "overlapPolicy")
    missing = await env.api.post("/api/scheduler/schedules/none/backfill", json=body)
    assert missing.status_code == 404 and "'none'" in missing.json()["message"]


async def test_a_schedule_pauses_after_its_runs_fail_n_times_in_a_row(env):
    await save(env, "p", "slow", pauseAfterFailures=2, overlapPolicy="ALLOW_ALL")
    await tick_at(env, T0 + MINUTE)
    (first,) = await runs_of(env, "p")
    await finish(env, first["workflowId"], TaskStatus.FAILED_WITH_TERMINAL_ERROR)
    await tick_at(env, T0 + 2 * MINUTE)
    second = (await runs_of(env, "p"))[1]
    await finish(env, second["workflowId"], TaskStatus.FAILED_WITH_TERMINAL_ERROR)
    await tick_at(env, T0 + 3 * MINUTE)
    assert [state for _, state in await ticks_of(env, "p")] == ["FAILED", "FAILED"]
    shown = (await env.api.get("/api/scheduler/schedules/p")).json()
    assert shown["paused"] is True
    assert "2 failed runs in a row" in shown["pausedReason"]
    assert shown["nextRunTime"] is None
    await tick_at(env, T0 + 4 * MINUTE)
    assert len(await ticks_of(env, "p")) == 2
    # Saved again as Conductor's clients save it (paused, with no reason): it stays paused
    # for the same reason; saved unpaused, it ticks again and counts failures afresh.
    await save(env, "p", "slow", pauseAfterFailures=2, overlapPolicy="ALLOW_ALL", paused=True)
    shown = (await env.api.get("/api/scheduler/schedules/p")).json()
    assert shown["paused"] and "2 failed runs in a row" in shown["pausedReason"]
    resumed = await env.api.put("/api/scheduler/schedules/p/resume")
    assert resumed.status_code == 200
    shown = (await env.api.get("/api/scheduler/schedules/p")).json()
    assert (shown["paused"], shown["pausedReason"], shown["consecutiveFailures"]) == (
        False,
        None,
        0,
    )
    await tick_at(env, T0 + 5 * MINUTE)  # the tick at 4 fell while it was paused
    assert [t for t, _ in await ticks_of(env, "p")][-1] == T0 + 5 * MINUTE


async def test_a_schedule_unpaused_by_a_save_counts_failures_afresh(env):
    await save(env, "u", "quick", pauseAfterFailures=1)
    await env.api.delete("/api/metadata/workflow/quick/1")
    await tick_at(env, T0 + MINUTE)
    assert (await env.api.get("/api/scheduler/schedules/u")).json()["paused"] is True
    answer = await env.api.post("/api/metadata/workflow", json=QUICK)
    assert answer.status_code == 200, answer.text
    shown = await save(env, "u", "quick", pauseAfterFailures=1, paused=False)
    assert (shown["paused"], shown["consecutiveFailures"]) == (False, 0)
    await tick_at(env, T0 + 2 * MINUTE)
    assert [state for _, state in await ticks_of(env, "u")] == ["START_FAILED", "COMPLETED"]


async def test_a_completed_run_resets_the_count_of_failures(env):
    await save(env, "r", "slow", pauseAfterFailures=2, overlapPolicy="ALLOW_ALL")
    statuses = [
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        TaskStatus.COMPLETED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
    ]
    for n, status in enumerate(statuses, start=1):
        await tick_at(env, T0 + n * MINUTE)
        await finish(env, (await runs_of(env, "r"))[-1]["workflowId"], status)
    await tick_at(env, T0 + 4 * MINUTE)
    shown = (await env.api.get("/api/scheduler/schedules/r")).json()
    assert (shown["paused"], shown["consecutiveFailures"]) == (False, 1)


async def test_a_workflow_that_cannot_start_counts_as_a_failure(env):
    await save(env, "gone", "quick", pauseAfterFailures=1)
    deleted = await env.api.delete("/api/metadata/workflow/quick/1")
    assert deleted.status_code == 200, deleted.text
    await tick_at(env, T0 + MINUTE)
    found = (await env.api.get("/api/scheduler/search/executions")).json()["results"]
    assert [(e["state"], e["tickState"]) for e in found] == [("FAILED", "START_FAILED")]
    assert "quick" in found[0]["reason"]
    shown = (await env.api.get("/api/scheduler/schedules/gone")).json()
    assert shown["paused"] is True


async def test_a_pinned_version_stays_and_an_unpinned_one_takes_the_latest(env):
    pinned = {"name": "quick", "version": 1, "input": {}}
    await save(env, "pinned", "quick", startWorkflowRequest=pinned)
    await save(env, "latest", "quick")
    newer = {**QUICK, "version": 2}
    answer = await env.api.post("/api/metadata/workflow", json=newer)
    assert answer.status_code == 200, answer.text
    await tick_at(env, T0 + MINUTE)
    assert [r["workflowVersion"] for r in await runs_of(env, "pinned")] == [1]
    assert [r["workflowVersion"] for r in await runs_of(env, "latest")] == [2]


async def test_pause_all_stops_every_schedule_until_resumed(env):
    await save(env, "a1", "quick")
    assert (await env.api.get("/api/scheduler/admin/pause")).json() == {"paused": True}
    assert await tick_at(env, T0 + MINUTE) is None  # nothing due until resumed
    assert await ticks_of(env, "a1") == []
    assert (await env.api.put("/api/scheduler/admin/resume")).json() == {"paused": False}
    await tick_at(env, T0 + MINUTE + 1_000)
    assert await ticks_of(env, "a1") == [(T0 + MINUTE, "COMPLETED")]


async def test_a_paused_schedule_starts_nothing(env):
    await save(env, "h", "quick")
    paused = await env.api.get("/api/scheduler/schedules/h/pause", params={"reason": "upgrade"})
    assert paused.status_code == 200, paused.text
    shown = (await env.api.get("/api/scheduler/schedules/h")).json()
    assert (shown["paused"], shown["pausedReason"]) == (True, "upgrade")
    await tick_at(env, T0 + MINUTE)
    assert await ticks_of(env, "h") == []
    assert (await env.api.get("/api/scheduler/schedules/h/resume")).status_code == 200
    await tick_at(env, T0 + 2 * MINUTE)
    assert await ticks_of(env, "h") == [(T0 + 2 * MINUTE, "COMPLETED")]


# ---- the API -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cronExpression": None}, "cronExpression"),
        ({"cronExpression": "61 * * * * ?"}, "cronExpression"),
        ({"intervalSeconds": 60}, "cronExpression"),
        ({"zoneId": "Mars/Olympus"}, "zoneId"),
        ({"overlapPolicy": "SOMETIMES"}, "overlapPolicy"),
        ({"pauseAfterFailures": 0}, "pauseAfterFailures"),
        ({"name": ""}, "name"),
        ({"name": "a/b"}, "name"),
        ({"startWorkflowRequest": None}, "startWorkflowRequest"),
        ({"startWorkflowRequest": {"name": "unknown"}}, "startWorkflowRequest.name"),
        ({"startWorkflowRequest": {"name": "quick", "version": 9}}, "startWorkflowRequest.version"),
        (
            {"startWorkflowRequest": {"name": "quick", "priority": 100}},
            "startWorkflowRequest.priority",
        ),
    ],
)
async def test_a_bad_schedule_is_refused_naming_its_field_and_nothing_is_stored(env, change, field):
    body = {
        "name": "bad",
        "cronExpression": EVERY_MINUTE,
        "startWorkflowRequest": {"name": "quick"},
        **change,
    }
    answer = await env.api.post("/api/scheduler/schedules", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert (await env.api.get("/api/scheduler/schedules")).json() == []


async def test_schedules_are_listed_read_and_deleted(env):
    await save(env, "one", "quick")
    await save(env, "two", "slow", description="the slow one")
    await save(env, "two", "slow", description="replaced")
    names = [s["name"] for s in (await env.api.get("/api/scheduler/schedules")).json()]
    assert names == ["one", "two"]
    by_flow = await env.api.get("/api/scheduler/schedules", params={"workflowName": "slow"})
    assert [(s["name"], s["description"]) for s in by_flow.json()] == [("two", "replaced")]
    shown = (await env.api.get("/api/scheduler/schedules/one")).json()
    assert shown["cronExpression"] == EVERY_MINUTE
    assert shown["startWorkflowRequest"]["name"] == "quick"
    assert (shown["overlapPolicy"], shown["catchupPolicy"]) == ("SKIP", "ALL")
    assert shown["runCatchupScheduleInstances"] is True
    assert (await env.api.delete("/api/scheduler/schedules/one")).status_code == 200
    missing = await env.api.get("/api/scheduler/schedules/one")
    assert missing.status_code == 404 and "'one'" in missing.json()["message"]
    assert (await env.api.delete("/api/scheduler/schedules/one")).status_code == 404
    assert (await env.api.put("/api/scheduler/schedules/one/pause")).status_code == 404


async def test_next_times_of_a_cron_and_of_a_schedule(env):
    few = await env.api.get(
        "/api/scheduler/nextFewSchedules",
        params={"cronExpression": "0 0 * * * ?", "limit": 3},
    )
    assert few.json() == [T0 + n * 60 * MINUTE for n in (1, 2, 3)]
    later = await env.api.get(
        "/api/scheduler/nextFewSchedules",
        params={"cronExpression": "0 0 * * * ?", "scheduleStartTime": T0 + 5 * 60 * MINUTE},
    )
    assert later.json()[0] == T0 + 5 * 60 * MINUTE
    bad = await env.api.get("/api/scheduler/nextFewSchedules", params={"cronExpression": "nope"})
    assert (bad.status_code, bad.json()["field"]) == (400, "cronExpression")
    await save(env, "n", "quick")
    nxt = await env.api.get("/api/scheduler/schedules/n/next", params={"limit": 2})
    assert nxt.json() == [T0 + MINUTE, T0 + 2 * MINUTE]


async def test_executions_are_searched_by_workflow_state_and_text(env):
    await save(env, "s1", "quick")
    await save(env, "s2", "slow")
    await tick_at(env, T0 + MINUTE)
    await tick_at(env, T0 + 2 * MINUTE)  # s2's second tick is skipped: its run still runs

    async def search(**params: Any) -> list[tuple[str, int]]:
        answer = await env.api.get("/api/scheduler/search/executions", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["totalHits"] >= len(body["results"])
        return [(e["scheduleName"], (e["scheduledTime"] - T0) // MINUTE) for e in body["results"]]

    assert await search(sort="scheduledTime:ASC,scheduleName") == [
        ("s1", 1),
        ("s2", 1),
        ("s1", 2),
        ("s2", 2),
    ]
    assert await search(query="workflowName = 'slow'") == [("s2", 2), ("s2", 1)]
    assert await search(query="workflowName=slow AND status=FAILED") == [("s2", 2)]
    assert await search(query="state IN (RUNNING, COMPLETED)", sort="scheduledTime:ASC") == [
        ("s1", 1),
        ("s2", 1),
        ("s1", 2),
    ]
    assert await search(freeText="S1", size=1) == [("s1", 2)]
    bad = await env.api.get("/api/scheduler/search/executions", params={"query": "color=red"})
    assert (bad.status_code, bad.json()["field"]) == (400, "query")
    bad = await env.api.get("/api/scheduler/search/executions", params={"sort": "color"})
    assert (bad.status_code, bad.json()["field"]) == (400, "sort")


async def test_a_pass_looks_at_every_schedule_page_by_page(env):
    # Pages of two: the schedules whose runs still run are looked at on every page's pass
    # too, and must not keep the pass from reaching the others.
    for n in range(5):
        await save(env, f"page-{n}", "slow" if n % 2 == 0 else "quick")
    paged = Scheduler(env.orchestrator, batch=2)
    for minute in (1, 2):
        env.clock.at(T0 + minute * MINUTE)
        await paged.tick_once()
    for n in range(5):
        states = [state for _, state in await ticks_of(env, f"page-{n}")]
        assert states == (["RUNNING", "SKIPPED"] if n % 2 == 0 else ["COMPLETED", "COMPLETED"])


async def test_a_schedule_that_fails_to_tick_does_not_hold_the_others_up(env, monkeypatch, caplog):
    await save(env, "broken", "quick")
    await save(env, "fine", "quick")
    real = ScheduleUnit.act

    def act(self: ScheduleUnit, *, ticking: bool) -> None:
        if self.name == "broken":
            raise RuntimeError("a bug")
        real(self, ticking=ticking)

    monkeypatch.setattr(ScheduleUnit, "act", act)
    # Still due, it is tried again after a nap, not at once (a loop that never sleeps).
    assert await tick_at(env, T0 + MINUTE) == T0 + MINUTE + 1_000
    assert await ticks_of(env, "fine") == [(T0 + MINUTE, "COMPLETED")]
    assert await ticks_of(env, "broken") == []
    assert "schedule broken: acting on its ticks failed" in caplog.text
    monkeypatch.setattr(ScheduleUnit, "act", real)
    await tick_at(env, T0 + MINUTE + 500)  # tried again at the next pass
    assert await ticks_of(env, "broken") == [(T0 + MINUTE, "COMPLETED")]


async def test_retention_removes_old_tick_records_but_not_open_ones(env):
    from podium.server.retention import Retention

    await save(env, "kept", "slow", overlapPolicy="BUFFER_ONE")
    await save(env, "done", "quick")
    await tick_at(env, T0 + MINUTE)
    await tick_at(env, T0 + 2 * MINUTE)
    retention = Retention(env.store, max_age_days=0, clock=env.clock)
    env.clock.at(T0 + 10 * MINUTE)
    await retention.run_once(pause_s=0)
    assert await ticks_of(env, "done") == []
    assert await ticks_of(env, "kept") == [(T0 + MINUTE, "RUNNING"), (T0 + 2 * MINUTE, "BUFFERED")]


# ---- daylight-saving time ----------------------------------------------------------------

HOUR = 60 * MINUTE


def wall(zone: str, *fields: int, fold: int = 0) -> int:
    """Epoch ms of a wall-clock time in ``zone`` (``fold=1``: the second of a repeated hour)."""
    moment = datetime(*fields, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[misc]
    return int(moment.timestamp() * 1000)


async def ticks_through(env: Env, name: str, start: int, end: int, **fields: Any) -> list[int]:
    """Save schedule ``name`` at ``start``, move the clock an hour at a time to ``end``: the
    nominal times of the runs it started."""
    env.clock.at(start)
    await save(env, name, "quick", **fields)
    for now in range(start + HOUR, end + 1, HOUR):
        await tick_at(env, now)
    return [run["scheduledTime"] for run in await runs_of(env, name)]


async def test_a_wall_time_the_spring_change_skips_fires_once_when_the_clocks_jump(env):
    berlin = "Europe/Berlin"  # 2026-03-29: 02:00 CET becomes 03:00 CEST
    ticks = await ticks_through(
        env,
        "berlin-0230",
        wall(berlin, 2026, 3, 27, 12),
        wall(berlin, 2026, 3, 31, 12),
        cronExpression="0 30 2 * * ?",
        zoneId=berlin,
    )
    assert ticks == [
        wall(berlin, 2026, 3, 28, 2, 30),
        wall(berlin, 2026, 3, 29, 3, 0),  # 02:30 did not happen that night
        wall(berlin, 2026, 3, 30, 2, 30),
        wall(berlin, 2026, 3, 31, 2, 30),
    ]


async def test_a_wall_time_in_the_repeated_autumn_hour_fires_once(env):
    new_york = "America/New_York"  # 2026-11-01: 02:00 EDT becomes 01:00 EST
    ticks = await ticks_through(
        env,
        "ny-0130",
        wall(new_york, 2026, 10, 31, 12),
        wall(new_york, 2026, 11, 2, 12),
        cronExpression="0 30 1 * * ?",
        zoneId=new_york,
    )
    assert ticks == [
        wall(new_york, 2026, 11, 1, 1, 30),  # the first 01:30 (EDT) only
        wall(new_york, 2026, 11, 2, 1, 30),
    ]
    assert ticks[1] - ticks[0] == 25 * HOUR


async def test_an_hourly_schedule_fires_every_real_hour_across_both_changes(env):
    berlin = "Europe/Berlin"
    for name, start in (("spring", (2026, 3, 28, 22)), ("autumn", (2026, 10, 24, 22))):
        begin = wall(berlin, *start)
        ticks = await ticks_through(
            env, name, begin, begin + 8 * HOUR, cronExpression="0 0 * * * ?", zoneId=berlin
        )
        assert ticks == [begin + n * HOUR for n in range(1, 9)], name
