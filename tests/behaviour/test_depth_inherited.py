"""Runs started by a run, not only its SUB_WORKFLOW children, are one deeper than it: a
workflow that starts itself, by START_WORKFLOW or through an event handler, stops at the
depth limit with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.behaviour.event_helpers import add_handler, event, eventually
from tests.behaviour.helpers import register, run, start, task_of, wait_status


@pytest.fixture
def shallow(store_choice) -> Iterator[httpx.Client]:
    with (
        store_choice.server(max_subworkflow_depth=2, sweep_interval_s=0.2) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def test_a_workflow_that_starts_itself_stops_at_the_depth_limit(shallow):
    register(
        shallow,
        {
            "name": "again",
            "tasks": [
                {
                    "name": "again",
                    "taskReferenceName": "again",
                    "type": "START_WORKFLOW",
                    "inputParameters": {"startWorkflow": {"name": "again"}},
                }
            ],
        },
    )
    chain = [wait_status(shallow, start(shallow, "again"))]
    while chain[-1]["status"] == "COMPLETED":
        started = task_of(chain[-1], "again")["outputData"]["workflowId"]
        chain.append(wait_status(shallow, started))
    assert len(chain) == 3  # depths 0, 1 and 2; the run at depth 2 may start no deeper run
    deepest = chain[-1]
    assert deepest["status"] == "FAILED"
    step = task_of(deepest, "again")
    assert step["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "would start 'again' at depth 3" in step["reasonForIncompletion"]
    assert "PODIUM_MAX_SUBWORKFLOW_DEPTH" in deepest["reasonForIncompletion"]


def test_a_handler_started_run_is_one_deeper_than_the_run_that_published(shallow):
    register(
        shallow,
        {
            "name": "echo",
            "tasks": [
                {
                    "name": "announce",
                    "taskReferenceName": "announce",
                    "type": "EVENT",
                    "sink": "conductor:echo.again",
                }
            ],
        },
    )
    add_handler(
        shallow,
        {
            "name": "echo_again",
            "event": "conductor:echo.again",
            "actions": [{"action": "start_workflow", "start_workflow": {"name": "echo"}}],
        },
    )
    start(shallow, "echo")

    def refused() -> list[str]:
        events = shallow.get("/api/events", params={"topic": "echo.again"}).json()
        errors = []
        for listed in events:
            errors += [d["lastError"] or "" for d in event(shallow, listed["id"])["deliveries"]]
        return [error for error in errors if "PODIUM_MAX_SUBWORKFLOW_DEPTH" in error]

    (reason,) = eventually(refused, what="a delivery refused at the depth limit")
    assert "at depth 3" in reason
    runs = shallow.get("/api/workflow/search", params={"name": "echo"}).json()["results"]
    assert len(runs) == 3  # depths 0, 1 and 2
    assert all(run(shallow, r["workflowId"])["status"] == "COMPLETED" for r in runs)
