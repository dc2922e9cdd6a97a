"""A big run read a part at a time: ``GET /api/workflow/{id}/tasks`` pages and filters its
tasks as Conductor's ``TaskListSearchResultSummary``, and ``/task-counts`` counts them by
step for the graph."""

from __future__ import annotations

import time

import pytest

from tests.behaviour.helpers import register, run, start, wait_status

BRANCHES = 300
WAITING = 4  # branches that wait for a worker, so that the run has two statuses to filter by
LOOPS = 3
DONE = 1 + LOOPS + 1 + BRANCHES - WAITING  # the loop, its iterations, the fork, quick branches

BIG = {
    "name": "big",
    "tasks": [
        {
            "name": "loop",
            "taskReferenceName": "loop",
            "type": "DO_WHILE",
            "loopCondition": f"$.loop['iteration'] < {LOOPS}",
            "inputParameters": {"loop": "${loop.output}"},
            "loopOver": [
                {
                    "name": "step",
                    "taskReferenceName": "step",
                    "type": "SET_VARIABLE",
                    "inputParameters": {"x": 1},
                }
            ],
        },
        {
            "name": "fan",
            "taskReferenceName": "fan",
            "type": "FORK_JOIN_DYNAMIC",
            "inputParameters": {
                "dynamicTasks": "${workflow.input.tasks}",
                "dynamicTasksInput": {},
            },
            "dynamicForkTasksParam": "dynamicTasks",
            "dynamicForkTasksInputParamName": "dynamicTasksInput",
        },
        {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
    ],
}


def _branches() -> list[dict[str, str]]:
    quick = [
        {"name": "noop", "taskReferenceName": f"item_{i}", "type": "NOOP"}
        for i in range(BRANCHES - WAITING)
    ]
    slow = [
        {"name": "slow", "taskReferenceName": f"slow_{i}", "type": "SIMPLE"} for i in range(WAITING)
    ]
    return quick + slow


def _tasks(api, run_id, **params):
    response = api.get(f"/api/workflow/{run_id}/tasks", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def big_run(api) -> str:
    register(api, BIG, [{"name": "slow", "retryCount": 0}])
    run_id = start(api, "big", {"tasks": _branches()})
    # Every quick branch done, the slow ones scheduled and the JOIN waiting on them.
    deadline = time.monotonic() + 20
    while _tasks(api, run_id, status="COMPLETED", count=0)["totalHits"] < DONE:
        assert time.monotonic() < deadline, run(api, run_id)
        time.sleep(0.05)
    assert wait_status(api, run_id, {"RUNNING"})["status"] == "RUNNING"
    return run_id


def test_pages_cover_every_task_once_in_the_order_of_include_tasks(api, big_run):
    everything = run(api, big_run)["tasks"]
    # the loop, its iterations, the fork, its branches and the JOIN
    assert len(everything) == 1 + LOOPS + 1 + BRANCHES + 1
    seen = []
    start_at = 0
    while True:
        page = _tasks(api, big_run, start=start_at, count=128)
        assert page["totalHits"] == len(everything)
        if not page["results"]:
            break
        seen.extend(page["results"])
        start_at += 128
    assert seen == everything  # the same Task JSON, in the same order
    assert _tasks(api, big_run)["results"] == everything[:15]  # Conductor's default count
    last = _tasks(api, big_run, start=len(everything) - 1, count=10)["results"]
    assert [t["referenceTaskName"] for t in last] == ["join"]
    assert _tasks(api, big_run, start=len(everything) + 5)["results"] == []


def test_summary_counts_the_whole_run_and_status_filters_the_page(api, big_run):
    page = _tasks(api, big_run, count=0)
    assert page["results"] == []
    assert page["summary"] == {"COMPLETED": DONE, "IN_PROGRESS": 1, "SCHEDULED": WAITING}
    assert page["totalHits"] == DONE + 1 + WAITING  # the JOIN is the one in progress
    scheduled = _tasks(api, big_run, status="SCHEDULED", count=100)
    assert scheduled["totalHits"] == WAITING
    assert [t["referenceTaskName"] for t in scheduled["results"]] == [
        f"slow_{i}" for i in range(WAITING)
    ]
    # repeated, or comma-separated as some clients send it
    both = _tasks(api, big_run, status=["SCHEDULED", "IN_PROGRESS"], count=0)["totalHits"]
    assert both == _tasks(api, big_run, status="scheduled,in_progress", count=0)["totalHits"]
    assert both == WAITING + 1


def test_reference_name_prefix_and_iteration_filters(api, big_run):
    slow = _tasks(api, big_run, refPrefix="slow_", count=100)
    assert slow["totalHits"] == WAITING
    items = _tasks(api, big_run, refPrefix="item_1", count=1000)
    # item_1, item_10..item_19, item_100..item_199
    assert items["totalHits"] == 1 + 10 + 100
    assert all(t["referenceTaskName"].startswith("item_1") for t in items["results"])
    second = _tasks(api, big_run, iteration=2, refPrefix="step")
    assert [t["referenceTaskName"] for t in second["results"]] == ["step__2"]
    assert second["results"][0]["iteration"] == 2
    step = _tasks(api, big_run, taskReferenceName="step")  # the step, in every iteration
    assert [t["referenceTaskName"] for t in step["results"]] == ["step__1", "step__2", "step__3"]
    one = _tasks(api, big_run, taskReferenceName="step__3")
    assert [t["referenceTaskName"] for t in one["results"]] == ["step__3"]
    exact = _tasks(api, big_run, taskReferenceName="item_1")  # not item_10, item_100, ...
    assert [t["referenceTaskName"] for t in exact["results"]] == ["item_1"]
    none = _tasks(api, big_run, refPrefix="slow_", status="COMPLETED")
    assert none["totalHits"] == 0
    assert none["results"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": -1}, "start"),
        ({"start": "first"}, "start"),
        ({"count": 1001}, "count"),
        ({"count": -3}, "count"),
        ({"status": "DONE"}, "status"),
        ({"status": "COMPLETED,NOPE"}, "status"),
        ({"iteration": -1}, "iteration"),
        ({"iteration": "two"}, "iteration"),
        ({"refPrefix": "x" * 1001}, "refPrefix"),
        ({"taskReferenceName": "x" * 1001}, "taskReferenceName"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(api, big_run, params, field):
    response = api.get(f"/api/workflow/{big_run}/tasks", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_an_unknown_run_has_no_tasks_to_list_or_count(api):
    assert api.get("/api/workflow/no-such-run/tasks").status_code == 404
    assert api.get("/api/workflow/no-such-run/task-counts").status_code == 404


def test_task_counts_group_loop_iterations_and_fork_branches(api, big_run):
    counts = api.get(f"/api/workflow/{big_run}/task-counts").json()
    assert counts["totalTasks"] == 1 + LOOPS + 1 + BRANCHES + 1
    steps = counts["steps"]
    assert set(steps) == {"loop", "step", "fan", "join"}  # no branch is a step of its own
    assert steps["step"]["count"] == LOOPS
    assert steps["step"]["counts"] == {"COMPLETED": LOOPS}
    assert steps["step"]["iterations"] == LOOPS
    assert steps["loop"]["iterations"] == LOOPS
    fan = counts["branches"]["fan"]
    assert fan["count"] == BRANCHES
    assert fan["counts"] == {"COMPLETED": BRANCHES - WAITING, "SCHEDULED": WAITING}
    assert fan["first"][:2] == [
        {"referenceTaskName": "item_0", "status": "COMPLETED"},
        {"referenceTaskName": "item_1", "status": "COMPLETED"},
    ]
    assert len(fan["first"]) == 50


def test_include_tasks_still_answers_every_task(api, big_run):
    body = run(api, big_run)
    assert len(body["tasks"]) == 1 + LOOPS + 1 + BRANCHES + 1
    without = api.get(f"/api/workflow/{big_run}", params={"includeTasks": "false"}).json()
    assert "tasks" not in without


def test_overview_answers_the_run_a_page_and_the_counts_from_one_read(api, big_run):
    response = api.get(
        f"/api/workflow/{big_run}/overview", params={"start": 5, "count": 3, "status": "COMPLETED"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    head = api.get(f"/api/workflow/{big_run}", params={"includeTasks": "false"}).json()
    assert body["workflow"] == head  # diagnostics included, tasks not
    assert body["tasks"] == _tasks(api, big_run, start=5, count=3, status="COMPLETED")
    assert body["counts"] == api.get(f"/api/workflow/{big_run}/task-counts").json()
    bad = api.get(f"/api/workflow/{big_run}/overview", params={"iteration": "x"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "iteration"
    assert api.get("/api/workflow/no-such-run/overview").status_code == 404
