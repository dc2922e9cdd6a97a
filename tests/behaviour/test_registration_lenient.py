"""What Conductor registers though it looks wrong, Podium registers too, with a warning naming
the field (a 400 under ``?strict=true``, storing nothing), and runs the way Conductor would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import complete, poll, start, task_of, wait_status


def _step(ref: str, kind: str = "SIMPLE", **extra: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": kind, **extra}


EMPTY_LOOP = {
    "name": "lenient_loop",
    "tasks": [_step("loop", "DO_WHILE", loopCondition="", loopOver=[_step("body")])],
}
OPEN_FORK = {
    "name": "lenient_fork",
    "tasks": [_step("first"), _step("fork", "FORK_JOIN", forkTasks=[[_step("l")], [_step("r")]])],
}
NAMELESS_TASK_DEF = {
    "name": "lenient_task_def",
    "tasks": [
        {
            "name": "charge",
            "taskReferenceName": "charge",
            "taskDefinition": {"retryCount": 0, "responseTimeoutSeconds": 30},
        }
    ],
}
UNKNOWN_REFS = {
    "name": "lenient_refs",
    "tasks": [
        _step(
            "check",
            "SWITCH",
            evaluatorType="value-param",
            expression="k",
            inputParameters={"k": "${workflow.input.k}"},
            decisionCases={"a": [_step("inner", inputParameters={"v": "${chek.output.v}"})]},
        ),
        _step("last"),
    ],
    "outputParameters": {"total": "${ghost.output.total}", "v": "${last.output.v}"},
}

BAD_SCRIPT = {
    "name": "lenient_script",
    "tasks": [
        _step("s", "SWITCH", evaluatorType="graaljs", expression="$.a >", defaultCase=[]),
        _step("after"),
    ],
}
DYNAMIC_WITHOUT_NAME = {
    "name": "lenient_dynamic",
    "tasks": [_step("d", "DYNAMIC", dynamicTaskNameParam="taskToExecute")],
}

CASES = [
    pytest.param(
        EMPTY_LOOP,
        "tasks[0].loopCondition (task 'loop'): the loopCondition is empty, so the loop runs "
        "its body once",
        id="empty-loop-condition",
    ),
    pytest.param(
        OPEN_FORK,
        "tasks[1] (task 'fork'): a FORK_JOIN should be followed by a JOIN",
        id="fork-without-join",
    ),
    pytest.param(
        NAMELESS_TASK_DEF,
        "tasks[0].taskDefinition.name (task 'charge'): missing; the task's name 'charge' is used",
        id="nameless-task-definition",
    ),
    pytest.param(
        UNKNOWN_REFS,
        "tasks[0].decisionCases.a[0].inputParameters (task 'inner'): '${chek.output.v}' "
        "refers to 'chek', which is no task reference name in this workflow; it resolves to "
        "null; did you mean 'check'?",
        id="unknown-nested-reference",
    ),
    pytest.param(
        UNKNOWN_REFS,
        "outputParameters: '${ghost.output.total}' refers to 'ghost'",
        id="unknown-output-reference",
    ),
    pytest.param(
        {
            "name": "system_parameter",
            "tasks": [_step("a", inputParameters={"env": "${NETFLIX_STACK}"})],
        },
        "tasks[0].inputParameters (task 'a'): '${NETFLIX_STACK}' is a Conductor system parameter",
        id="system-parameter",
    ),
    pytest.param(
        BAD_SCRIPT,
        "tasks[0].expression (task 's'): ",
        id="script-that-does-not-parse",
    ),
    pytest.param(
        DYNAMIC_WITHOUT_NAME,
        "tasks[0].inputParameters (task 'd'): dynamicTaskNameParam names input "
        "'taskToExecute', which inputParameters does not have; the run fails when it reaches "
        "this task",
        id="dynamic-name-input-missing",
    ),
]


@pytest.mark.parametrize(("definition", "warning"), CASES)
def test_it_registers_with_a_warning_naming_the_field(api, definition, warning):
    response = api.post("/api/metadata/workflow", json=definition)
    assert response.status_code == 200, response.text
    warnings = response.json()["warnings"]
    assert any(w.startswith(warning) for w in warnings), warnings
    assert response.headers["X-Podium-Warnings"] == str(len(warnings))
    checked = api.post("/api/metadata/workflow/validate", json=definition)
    assert checked.status_code == 200, checked.text
    assert checked.json()["warnings"] == warnings


@pytest.mark.parametrize(("definition", "warning"), CASES)
def test_strict_registration_refuses_it_and_stores_nothing(api, definition, warning):
    response = api.post("/api/metadata/workflow", params={"strict": "true"}, json=definition)
    assert response.status_code == 400, response.text
    assert warning in response.json()["message"]
    assert api.get(f"/api/metadata/workflow/{definition['name']}").status_code == 404


def test_a_retry_count_above_a_thousand_registers_with_a_warning(api):
    task_def = {"name": "stubborn", "retryCount": 5000}
    response = api.post("/api/metadata/taskdefs", json=[task_def])
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == [
        "[0].retryCount: 5000 retries is more than 1000; a failing task is tried 5001 times "
        "before its run fails"
    ]
    assert api.get("/api/metadata/taskdefs/stubborn").json()["retryCount"] == 5000
    strict = api.post(
        "/api/metadata/taskdefs", params={"strict": "true"}, json=[{**task_def, "name": "s2"}]
    )
    assert strict.status_code == 400
    assert api.get("/api/metadata/taskdefs/s2").status_code == 404


def test_what_conductor_still_refuses_stays_refused(api):
    no_condition = {
        "name": "no_condition",
        "tasks": [_step("loop", "DO_WHILE", loopOver=[_step("body")])],
    }
    fork_then_task = {**OPEN_FORK, "name": "fork_then_task", "tasks": [*OPEN_FORK["tasks"]]}
    fork_then_task["tasks"].append(_step("after"))
    top_level_unknown = {
        "name": "top_unknown",
        "tasks": [_step("a", inputParameters={"v": "${b.output}"})],
    }
    for definition, words in (
        (no_condition, "a DO_WHILE needs a loopCondition"),
        (fork_then_task, "a FORK_JOIN must be followed by a JOIN"),
        (top_level_unknown, "refers to 'b', which is no task reference name"),
    ):
        response = api.post("/api/metadata/workflow", json=definition)
        assert response.status_code == 400, response.text
        assert words in response.json()["message"]


def test_an_empty_loop_condition_runs_the_body_once(api):
    api.post("/api/metadata/workflow", json=EMPTY_LOOP)
    run_id = start(api, "lenient_loop")
    [task] = poll(api, "body")
    assert task["referenceTaskName"] == "body__1"
    complete(api, task, {"n": 1})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "loop")["outputData"]["iteration"] == 1
    assert poll(api, "body", timeout_ms=50) == []


def test_a_fork_without_a_join_ends_the_run_when_its_branches_end(api):
    api.post("/api/metadata/workflow", json=OPEN_FORK)
    run_id = start(api, "lenient_fork")
    complete(api, poll(api, "first")[0])
    [left] = poll(api, "l")
    [right] = poll(api, "r")
    complete(api, left, {"side": "l"})
    assert wait_status(api, run_id, {"RUNNING"})["status"] == "RUNNING"
    complete(api, right, {"side": "r"})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert {t["referenceTaskName"]: t["status"] for t in body["tasks"]} == {
        "first": "COMPLETED",
        "fork": "COMPLETED",
        "l": "COMPLETED",
        "r": "COMPLETED",
    }


def test_a_nameless_task_definition_is_the_tasks_own(api):
    api.post("/api/metadata/workflow", json=NAMELESS_TASK_DEF)
    run_id = start(api, "lenient_task_def")
    [task] = poll(api, "charge")
    complete(api, task, status="FAILED", reason="declined")
    body = wait_status(api, run_id)
    # Its retryCount of 0 is in force: the first failure fails the run.
    assert body["status"] == "FAILED"
    assert len(body["tasks"]) == 1


def test_unknown_references_resolve_to_null(api):
    api.post("/api/metadata/workflow", json=UNKNOWN_REFS)
    run_id = start(api, "lenient_refs", {"k": "a"})
    [inner] = poll(api, "inner")
    assert inner["inputData"] == {"v": None}
    complete(api, inner)
    [last] = poll(api, "last")
    assert last["inputData"] == {}
    complete(api, last, {"v": 7})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"total": None, "v": 7}


def test_a_script_that_does_not_parse_fails_its_step_when_it_runs(api):
    response = api.post("/api/metadata/workflow", json=BAD_SCRIPT)
    assert response.json()["warnings"][0].endswith("; the step fails when it runs")
    body = wait_status(api, start(api, "lenient_script"))
    assert body["status"] == "FAILED"
    assert task_of(body, "s")["status"].startswith("FAILED")


def test_a_dynamic_task_without_its_name_input_fails_the_run(api):
    api.post("/api/metadata/workflow", json=DYNAMIC_WITHOUT_NAME)
    body = wait_status(api, start(api, "lenient_dynamic"))
    assert body["status"] == "FAILED"
    assert "taskToExecute" in body["reasonForIncompletion"]


FAILS_WHEN_RUN = [
    pytest.param(
        _step("i", "INLINE", inputParameters={"evaluatorType": "javascript"}),
        "tasks[0].inputParameters.expression (task 'i'): an INLINE task needs an expression",
        "INLINE needs an 'expression' input",
        id="inline-without-expression",
    ),
    pytest.param(
        _step("j", "JSON_JQ_TRANSFORM", inputParameters={"queryExpression": ""}),
        "tasks[0].inputParameters.queryExpression (task 'j'): '' is no jq query",
        "queryExpression",
        id="jq-empty-query",
    ),
    pytest.param(
        _step("s", "START_WORKFLOW", inputParameters={"startWorkflow": {"input": {}}}),
        "tasks[0].inputParameters.startWorkflow.name (task 's'): a START_WORKFLOW needs the "
        "name of the workflow to start",
        "startWorkflow.name",
        id="start-workflow-without-name",
    ),
    pytest.param(
        _step("e", "EVENT", sink="sqs:orders"),
        "tasks[0].sink (task 'e'): sink 'sqs:orders' names no known broker",
        "sink 'sqs:orders' names no known broker",
        id="event-to-an-unknown-broker",
    ),
]


@pytest.mark.parametrize(("step", "warning", "reason"), FAILS_WHEN_RUN)
def test_a_step_conductor_checks_only_when_it_runs_registers_and_fails_then(
    api, step, warning, reason
):
    definition = {"name": "fails_when_run", "tasks": [step]}
    response = api.post("/api/metadata/workflow", json=definition)
    assert response.status_code == 200, response.text
    assert response.json()["warnings"][0].startswith(warning)
    strict = api.post(
        "/api/metadata/workflow", params={"strict": "true", "overwrite": "true"}, json=definition
    )
    assert strict.status_code == 400
    body = wait_status(api, start(api, "fails_when_run"))
    assert body["status"] == "FAILED"
    assert reason in task_of(body, step["taskReferenceName"])["reasonForIncompletion"]


def test_a_wait_until_a_time_in_a_named_zone_registers_and_runs(api):
    # Conductor's own example form (Java's ``yyyy-MM-dd HH:mm z``); a past time ends at once.
    definition = {
        "name": "wait_in_zone",
        "tasks": [_step("w", "WAIT", inputParameters={"until": "2022-12-25 09:00 PST"})],
    }
    response = api.post("/api/metadata/workflow", params={"strict": "true"}, json=definition)
    assert response.status_code == 200, response.text
    body = wait_status(api, start(api, "wait_in_zone"))
    assert body["status"] == "COMPLETED"


def test_podium_register_prints_each_warning_and_strict_refuses(api, server, tmp_path):
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(EMPTY_LOOP))
    strict = CliRunner().invoke(app, ["register", str(path), "--strict", "--server", server.url])
    assert strict.exit_code == 1, strict.output
    assert "tasks[0].loopCondition (task 'loop'): the loopCondition is empty" in strict.stderr
    assert api.get("/api/metadata/workflow/lenient_loop").status_code == 404
    lenient = CliRunner().invoke(app, ["register", str(path), "--server", server.url])
    assert lenient.exit_code == 0, lenient.output
    assert (
        "warning: lenient_loop: tasks[0].loopCondition (task 'loop'): the loopCondition is "
        "empty, so the loop runs its body once"
    ) in lenient.stderr
