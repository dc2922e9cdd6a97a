"""START_WORKFLOW: an independent run, asked of the server; the task ends with its id."""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.events import StartChild, StartWorkflow, TaskResult
from podium.engine.state import derive_id
from tests.unit.engine_helpers import Run, simple, step, workflow


def _starter(request: Any) -> dict[str, Any]:
    return workflow(
        [
            step("kick", type="START_WORKFLOW", inputParameters={"startWorkflow": request}),
            simple("after") | {"inputParameters": {"started": "${kick.output.workflowId}"}},
        ]
    )


def test_start_workflow_asks_for_an_independent_run_and_waits_for_its_id():
    request = {
        "name": "audit",
        "version": 2,
        "input": {"order": "${workflow.input.order}"},
        "correlationId": "c-1",
    }
    run = Run(_starter(request), {"order": "o-7"}, correlation_id="parent-corr")
    commands = run.start(now=3)
    kick = run.latest("kick")
    assert kick.status == TaskStatus.IN_PROGRESS
    assert commands == (
        StartWorkflow(
            task_id=kick.task_id,
            run_id=derive_id(kick.task_id, "started"),
            name="audit",
            version=2,
            input={"order": "o-7"},
            correlation_id="c-1",
            depth=1,  # one deeper than this run, as a child would be
        ),
    )
    assert run.of(StartChild) == []  # not a child: nothing reports back when it ends

    new_id = commands[0].run_id
    run.send(TaskResult(4, kick.task_id, TaskStatus.COMPLETED, {"workflowId": new_id}))
    assert run.latest("kick").output == {"workflowId": new_id}
    assert run.latest("after").input == {"started": new_id}


def test_without_a_correlation_id_the_new_run_gets_this_runs():
    run = Run(_starter({"name": "audit"}), correlation_id="parent-corr")
    [command] = run.start(now=0)
    assert isinstance(command, StartWorkflow)
    assert (command.version, command.input, command.correlation_id) == (None, {}, "parent-corr")


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        ("${workflow.input.request}", "needs an input 'startWorkflow.name'"),
        ({"name": "audit", "version": "two"}, "version must be a number"),
        ({"name": "audit", "input": [1]}, "input must be an object"),
    ],
)
def test_a_bad_request_fails_the_task(request_, words):
    run = Run(_starter(request_), {"request": None})
    assert run.start(now=0) == ()
    kick = run.latest("kick")
    assert kick.status == TaskStatus.FAILED
    assert kick.reason is not None and words in kick.reason
    assert run.status == RunStatus.FAILED


def test_the_server_failing_to_start_the_run_fails_the_task():
    run = Run(_starter({"name": "ghost"}))
    run.start(now=0)
    kick = run.latest("kick")
    run.send(TaskResult(1, kick.task_id, TaskStatus.FAILED, {}, "no workflow 'ghost'"))
    assert run.status == RunStatus.FAILED
    assert run.state.reason == "task 'kick' (kick) FAILED: no workflow 'ghost'"
