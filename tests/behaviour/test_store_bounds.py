"""What no store can hold is refused at the edge, alike on SQLite and PostgreSQL.

A NUL character in a name, type, id or correlation id, a version past 32 bits, an offset past
64 bits and a duration past a century (``podium/dsl/bounds.py``) each get a 400 naming the
field, and leave every table as it was: on PostgreSQL they would otherwise fail the write (a
503, or a 400 that names no field), on SQLite be kept where PostgreSQL keeps nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.behaviour.helpers import poll, register, start
from tests.conftest import StoreChoice

# Every table a refused request could have written to.
# Written out rather than taken from podium.dsl.bounds, so that moving a bound fails the tests.
PAST_INT4 = 2**31  # PostgreSQL INTEGER holds up to 2**31 - 1
PAST_INT8 = 2**63  # BIGINT (and SQLite's INTEGER) up to 2**63 - 1
PAST_CENTURY_S = 100 * 365 * 86_400 + 1  # every deadline is now + a duration, in ms, in a BIGINT
_TABLES = ("workflow_defs", "task_defs", "run_definitions", "runs", "tasks", "queue", "timers")
_QUEUE = "bounds_task"
_WORKFLOW = {
    "name": "bounds",
    "version": 1,
    "tasks": [{"name": _QUEUE, "taskReferenceName": "work", "type": "SIMPLE"}],
}


def _contents(store: StoreChoice) -> dict[str, list[str]]:
    """Every row of every table a request could change, in a stable order."""
    return {table: sorted(map(repr, store.query(f"SELECT * FROM {table}"))) for table in _TABLES}


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == field, body
    assert body["retryable"] is False, body


@pytest.fixture
def ready(api: httpx.Client) -> httpx.Client:
    """A registered workflow and task definition (with a few runs started by the tests)."""
    register(api, _WORKFLOW, [{"name": _QUEUE}])
    return api


_BAD_DEFINITIONS = {
    "workflow name with NUL": ("workflow", {**_WORKFLOW, "name": "bou\x00nds"}, "name"),
    "task type with NUL": (
        "workflow",
        {**_WORKFLOW, "tasks": [{"name": "bounds\x00task", "taskReferenceName": "t"}]},
        "tasks[0].name",
    ),
    "task reference with NUL": (
        "workflow",
        {**_WORKFLOW, "tasks": [{"name": "t", "taskReferenceName": "t\x00", "type": "SIMPLE"}]},
        "tasks[0].taskReferenceName",
    ),
    "version past int4": ("workflow", {**_WORKFLOW, "version": PAST_INT4}, "version"),
    "workflow timeout of 1e16 s": (
        "workflow",
        {**_WORKFLOW, "timeoutSeconds": 1e16},
        "timeoutSeconds",
    ),
    "WAIT duration past the bound": (
        "workflow",
        {
            **_WORKFLOW,
            "tasks": [
                {
                    "name": "pause",
                    "taskReferenceName": "pause",
                    "type": "WAIT",
                    "inputParameters": {"duration": f"{PAST_CENTURY_S} seconds"},
                }
            ],
        },
        "tasks[0].inputParameters.duration",
    ),
    "task def name with NUL": ("taskdefs", [{"name": "t\x00d"}], "[0].name"),
    "task def timeout of 1e16 s": (
        "taskdefs",
        [{"name": "slow", "timeoutSeconds": 1e16}],
        "[0].timeoutSeconds",
    ),
    "task def retry delay past the bound": (
        "taskdefs",
        [{"name": "slow", "retryDelaySeconds": PAST_CENTURY_S}],
        "[0].retryDelaySeconds",
    ),
}


@pytest.mark.parametrize("case", list(_BAD_DEFINITIONS))
def test_a_definition_no_store_can_hold_is_refused_and_nothing_is_registered(
    ready, store_choice, case
):
    kind, body, field = _BAD_DEFINITIONS[case]
    before = _contents(store_choice)
    listed = ready.get(f"/api/metadata/{kind}").json()
    _refused(ready.post(f"/api/metadata/{kind}", json=body), field)
    assert ready.get(f"/api/metadata/{kind}").json() == listed
    assert _contents(store_choice) == before


def test_a_timeout_of_1e16_s_refused_at_registration_leaves_the_workflow_startable(ready):
    refused = {**_WORKFLOW, "version": 2, "timeoutSeconds": 1e16}
    _refused(ready.post("/api/metadata/workflow", json=refused), "timeoutSeconds")
    run_id = start(ready, "bounds")
    assert ready.get(f"/api/workflow/{run_id}").json()["workflowVersion"] == 1


_BAD_STARTS: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {
    "name with NUL in the path": ("/api/workflow/bou%00nds", {}, {}, "path"),
    "name with NUL in the body": ("/api/workflow", {}, {"name": "bou\x00nds"}, "name"),
    "correlationId with NUL in the query": (
        "/api/workflow/bounds",
        {"correlationId": "order\x00-1"},
        {},
        "correlationId",
    ),
    "correlationId with NUL in the body": (
        "/api/workflow",
        {},
        {"name": "bounds", "correlationId": "order\x00-1"},
        "correlationId",
    ),
    "idempotencyKey with NUL in the body": (
        "/api/workflow",
        {},
        {"name": "bounds", "idempotencyKey": "k\x00"},
        "idempotencyKey",
    ),
    "version past int4 in the query": (
        "/api/workflow/bounds",
        {"version": PAST_INT4},
        {},
        "version",
    ),
    "version past int4 in the body": (
        "/api/workflow",
        {},
        {"name": "bounds", "version": PAST_INT4},
        "version",
    ),
}


@pytest.mark.parametrize("case", list(_BAD_STARTS))
def test_a_start_no_store_can_hold_is_refused_and_no_run_is_made(ready, store_choice, case):
    path, params, body, field = _BAD_STARTS[case]
    before = _contents(store_choice)
    _refused(ready.post(path, params=params, json=body), field)
    assert _contents(store_choice) == before
    assert ready.get("/api/workflow/search").json()["totalHits"] == 0


def test_a_nul_in_a_runs_input_is_data_and_kept_on_both_stores(ready):
    # Input is a JSON document, not a name: any string may be in it.
    run_id = start(ready, "bounds", {"note": "a\x00b"}, correlationId="order-1")
    body = ready.get(f"/api/workflow/{run_id}").json()
    assert body["input"] == {"note": "a\x00b"}
    assert body["correlationId"] == "order-1"
    task = poll(ready, _QUEUE)[0]
    assert task["inputData"] == {} and task["workflowInstanceId"] == run_id


_BAD_SEARCHES = {
    "query with NUL": ({"query": "workflowType='bou\x00nds'"}, "query"),
    "freeText with NUL": ({"freeText": "\x00"}, "freeText"),
    "start past int8": ({"start": PAST_INT8}, "start"),
    "size past int8": ({"size": PAST_INT8}, "size"),
    "startedAfter past int8": ({"startedAfter": PAST_INT8}, "startedAfter"),
}


@pytest.mark.parametrize("case", list(_BAD_SEARCHES))
def test_a_search_no_store_can_compare_is_refused(ready, store_choice, case):
    params, field = _BAD_SEARCHES[case]
    start(ready, "bounds")
    before = _contents(store_choice)
    _refused(ready.get("/api/workflow/search", params=params), field)
    assert _contents(store_choice) == before


_BAD_POLLS = {
    "task type with NUL in the path": (f"/api/tasks/poll/batch/{_QUEUE}%00", {}, "path"),
    "single poll of a task type with NUL": (f"/api/tasks/poll/{_QUEUE}%00", {}, "path"),
    "count past int4": (f"/api/tasks/poll/batch/{_QUEUE}", {"count": PAST_INT4}, "count"),
    "workerid with NUL": (f"/api/tasks/poll/batch/{_QUEUE}", {"workerid": "w\x00"}, "workerid"),
    "domain with NUL": (f"/api/tasks/poll/batch/{_QUEUE}", {"domain": "d\x00"}, "domain"),
}


@pytest.mark.parametrize("case", list(_BAD_POLLS))
def test_a_poll_no_store_can_hold_is_refused_and_claims_nothing(ready, store_choice, case):
    path, params, field = _BAD_POLLS[case]
    run_id = start(ready, "bounds")
    before = _contents(store_choice)
    _refused(ready.get(path, params={"timeout": 0, **params}), field)
    assert _contents(store_choice) == before
    # The task is still there for a worker that asks properly.
    assert [t["workflowInstanceId"] for t in poll(ready, _QUEUE)] == [run_id]


_BAD_UPDATES = {
    "workerId with NUL": ({"workerId": "w\x00"}, "workerId"),
    "callbackAfterSeconds of 1e16": ({"callbackAfterSeconds": 10**16}, "callbackAfterSeconds"),
    "callbackAfterSeconds past int8": (
        {"callbackAfterSeconds": PAST_INT8},
        "callbackAfterSeconds",
    ),
    "taskId with NUL": ({"taskId": "t\x00"}, "taskId"),
}


@pytest.mark.parametrize("route", ["/api/tasks", "/api/tasks/update-v2"])
@pytest.mark.parametrize("case", list(_BAD_UPDATES))
def test_a_task_update_no_store_can_hold_is_refused_and_changes_nothing(
    ready, store_choice, case, route
):
    changes, field = _BAD_UPDATES[case]
    run_id = start(ready, "bounds")
    task = poll(ready, _QUEUE)[0]
    before = _contents(store_choice)
    body = {
        "taskId": task["taskId"],
        "workflowInstanceId": run_id,
        "status": "IN_PROGRESS",
        "workerId": "w1",
        "outputData": {"progress": 1},
        **changes,
    }
    _refused(ready.post(route, json=body), field)
    assert _contents(store_choice) == before
    ran = ready.get(f"/api/workflow/{run_id}").json()
    assert ran["status"] == "RUNNING"
    assert ran["tasks"][0]["status"] == "IN_PROGRESS" and ran["tasks"][0]["outputData"] == {}


def test_a_batch_of_task_updates_with_one_past_the_bounds_is_refused_whole(ready, store_choice):
    first, second = start(ready, "bounds"), start(ready, "bounds")
    tasks = poll(ready, _QUEUE, count=2)
    assert {t["workflowInstanceId"] for t in tasks} == {first, second}
    before = _contents(store_choice)
    results = [
        {
            "taskId": t["taskId"],
            "workflowInstanceId": t["workflowInstanceId"],
            "status": "COMPLETED",
            "workerId": "w1",
        }
        for t in tasks
    ]
    results[1]["callbackAfterSeconds"] = PAST_CENTURY_S
    response = ready.post("/api/tasks/update-batch", json=results)
    assert response.status_code == 400, response.text
    assert "callbackAfterSeconds" in response.json()["field"], response.text
    assert _contents(store_choice) == before
