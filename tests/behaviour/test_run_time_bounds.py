"""Names and numbers a run computes are held to what every store can keep, as requests are.

A DYNAMIC task's name, an EVENT's ``eventType``, what a WAIT waits for, and the name, version
and correlation id START_WORKFLOW starts come from a run's data, after the edge has checked
the request. One with a NUL character (or a version past 32 bits) would fail the decision's
write on PostgreSQL, answering the start or the worker's result with an error and leaving the
run stuck; on SQLite it was kept. Now the step fails for good, naming the input, on both.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.behaviour.event_helpers import add_handler, publish, settled
from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status
from tests.conftest import StoreChoice

PAST_INT4 = 2**31


def _one_step(name: str, step: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "version": 1, "tasks": [{"name": "s", "taskReferenceName": "s", **step}]}


_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "DYNAMIC task name with NUL": (
        {
            "type": "DYNAMIC",
            "dynamicTaskNameParam": "taskToRun",
            "inputParameters": {"taskToRun": "${workflow.input.value}"},
        },
        {"value": "charge\x00card"},
        "input 'taskToRun'",
    ),
    "EVENT eventType with NUL": (
        {
            "type": "EVENT",
            "sink": "conductor:orders",
            "inputParameters": {"eventType": "${workflow.input.value}"},
        },
        {"value": "order\x00.paid"},
        "input 'eventType'",
    ),
    "WAIT event name with NUL": (
        {"type": "WAIT", "inputParameters": {"event": "${workflow.input.value}"}},
        {"value": "order\x00.paid"},
        "input 'event'",
    ),
    "WAIT correlationId with NUL": (
        {
            "type": "WAIT",
            "inputParameters": {"event": "order.paid", "correlationId": "${workflow.input.value}"},
        },
        {"value": "order\x00-1"},
        "input 'correlationId'",
    ),
    "START_WORKFLOW name with NUL": (
        {
            "type": "START_WORKFLOW",
            "inputParameters": {"startWorkflow": {"name": "${workflow.input.value}"}},
        },
        {"value": "tar\x00get"},
        "startWorkflow.name",
    ),
    "START_WORKFLOW correlationId with NUL": (
        {
            "type": "START_WORKFLOW",
            "inputParameters": {
                "startWorkflow": {"name": "target", "correlationId": "${workflow.input.value}"}
            },
        },
        {"value": "order\x00-1"},
        "startWorkflow.correlationId",
    ),
    "START_WORKFLOW version past int4": (
        {
            "type": "START_WORKFLOW",
            "inputParameters": {
                "startWorkflow": {"name": "target", "version": "${workflow.input.value}"}
            },
        },
        {"value": PAST_INT4},
        "startWorkflow.version",
    ),
    "WAIT duration past a century": (
        {"type": "WAIT", "inputParameters": {"duration": "${workflow.input.value}"}},
        {"value": 10**17},
        "duration '100000000000000000' is longer than the limit",
    ),
    "FORK_JOIN_DYNAMIC sub-workflow version past int4": (
        {
            "type": "FORK_JOIN_DYNAMIC",
            "inputParameters": {
                "forkTaskWorkflow": "target",
                "forkTaskWorkflowVersion": "${workflow.input.value}",
                "forkTaskInputs": [{}],
            },
        },
        {"value": PAST_INT4},
        "subWorkflowParam.version",
    ),
    "FORK_JOIN_DYNAMIC branch name with NUL": (
        {
            "type": "FORK_JOIN_DYNAMIC",
            "inputParameters": {"forkTaskName": "${workflow.input.value}", "forkTaskInputs": [{}]},
        },
        {"value": "charge\x00card"},
        "may not contain the NUL character",
    ),
}


def _names_in_store(store: StoreChoice) -> list[str]:
    """Every queue, event type and awaited event name the store holds."""
    rows = store.query(
        "SELECT queue FROM queue UNION ALL SELECT type FROM events "
        "UNION ALL SELECT event FROM event_waits"
    )
    return [row[0] for row in rows]


@pytest.mark.parametrize("case", list(_CASES))
def test_a_step_computing_what_no_store_can_hold_fails_for_good_naming_it(api, store_choice, case):
    step, run_input, named = _CASES[case]
    target = _one_step("target", {"type": "NOOP"})
    workflow = _one_step("computes", step)
    if step["type"] == "FORK_JOIN_DYNAMIC":
        workflow["tasks"].append({"name": "j", "taskReferenceName": "j", "type": "JOIN"})
    register(api, target)
    register(api, workflow)

    run_id = start(api, "computes", run_input)
    ended = wait_status(api, run_id)

    assert ended["status"] == "FAILED", ended
    failed = task_of(ended, "s")
    assert failed["status"] == "FAILED_WITH_TERMINAL_ERROR", failed
    assert failed["retryCount"] == 0 and len(ended["tasks"]) <= 2, ended["tasks"]
    assert named in failed["reasonForIncompletion"], failed["reasonForIncompletion"]
    assert "\x00" not in failed["reasonForIncompletion"]  # written escaped, as \x00
    assert all("\x00" not in name for name in _names_in_store(store_choice))
    found = api.get("/api/workflow/search", params={"query": "workflowType='target'"})
    assert found.json()["totalHits"] == 0  # START_WORKFLOW started nothing


def test_a_dynamic_name_from_a_workers_output_fails_the_step_and_the_result_is_taken(api):
    register(
        api,
        {
            "name": "chooses",
            "version": 1,
            "tasks": [
                {"name": "choose", "taskReferenceName": "choose"},
                {
                    "name": "run_chosen",
                    "taskReferenceName": "run_chosen",
                    "type": "DYNAMIC",
                    "dynamicTaskNameParam": "taskToRun",
                    "inputParameters": {"taskToRun": "${choose.output.next}"},
                },
            ],
        },
    )
    run_id = start(api, "chooses")
    task = poll(api, "choose")[0]
    # Before, PostgreSQL refused the result's write (the worker retried it for ever) while
    # SQLite queued a task no worker could poll for.
    answer = complete(api, task, {"next": "charge\x00card"})
    assert answer.status_code == 200, answer.text
    ended = wait_status(api, run_id)
    assert ended["status"] == "FAILED"
    assert task_of(ended, "choose")["status"] == "COMPLETED"
    chosen = task_of(ended, "run_chosen")
    assert chosen["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "input 'taskToRun'" in chosen["reasonForIncompletion"]
    assert "NUL" in chosen["reasonForIncompletion"]


def test_a_nul_inside_a_computed_payload_is_data_and_published(api, store_choice):
    register(
        api,
        _one_step(
            "publishes",
            {
                "type": "EVENT",
                "sink": "conductor:orders",
                "inputParameters": {"eventType": "order.paid", "note": "${workflow.input.note}"},
            },
        ),
    )
    run_id = start(api, "publishes", {"note": "a\x00b"})
    ended = wait_status(api, run_id)
    assert ended["status"] == "COMPLETED", ended
    assert store_choice.query("SELECT type FROM events") == [("order.paid",)]


@pytest.fixture
def fast_api(store_choice: StoreChoice):
    """A server whose failed deliveries are retried after 50 ms (then 100, 200...)."""
    with store_choice.server(sweep_interval_s=0.2, event_retry_base_ms=50) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client


_HANDLER_ACTIONS = {
    "start_workflow.name": {
        "action": "start_workflow",
        "start_workflow": {"name": "${value}", "input": {}},
    },
    "start_workflow.correlationId": {
        "action": "start_workflow",
        "start_workflow": {"name": "notify", "input": {}, "correlationId": "${value}"},
    },
    "publish.type": {"action": "publish", "publish": {"topic": "invoices", "type": "${value}"}},
}


@pytest.mark.parametrize("field", list(_HANDLER_ACTIONS))
def test_a_handler_action_computing_a_nul_name_is_dead_lettered_naming_it(
    fast_api, store_choice, field
):
    # Before, PostgreSQL could not record the failure either (its reason held the NUL), so the
    # delivery was tried again for ever; SQLite started the run or kept the event.
    api = fast_api
    register(api, _one_step("notify", {"type": "NOOP"}))
    add_handler(
        api,
        {
            "name": "acts",
            "event": "order.created",
            "maxAttempts": 3,
            "actions": [_HANDLER_ACTIONS[field]],
        },
    )
    poison = publish(api, "order.created", {"value": "no\x00tify"})
    dead = settled(api, poison["id"], "acts", status="DEAD")
    assert dead["attempts"] == 3
    assert field in dead["lastError"] and "NUL" in dead["lastError"], dead["lastError"]
    assert api.get("/api/workflow/search").json()["totalHits"] == 0
    assert [row[0] for row in store_choice.query("SELECT topic FROM events")] == ["order.created"]
