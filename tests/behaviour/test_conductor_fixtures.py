"""Real Conductor definitions (from conductor-oss): registered and run, or refused by name."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from podium.dsl.models import TaskType
from tests.behaviour.helpers import TERMINAL, complete, poll, run, start, task_of, wait_status
from tests.behaviour.http_services import echo_service

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conductor"
SUPPORTED = {t.value for t in TaskType}
# Fixtures whose task types are all supported but which Podium still refuses, and why:
# Conductor's JSONPath deep scan (``..``) is not a reference Podium resolves.
KNOWN_REFUSALS = {
    "kitchensink_kitchensink.json": "malformed reference '${get_es_1.output..status}'",
}


def _types(tasks: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for task in tasks:
        found.add(task.get("type", "SIMPLE"))
        for case in (task.get("decisionCases") or {}).values():
            found |= _types(case)
        found |= _types(task.get("defaultCase") or [])
        for branch in task.get("forkTasks") or []:
            found |= _types(branch)
    return found


def _simple_names(tasks: list[dict[str, Any]]) -> set[str]:
    return {t["name"] for t in tasks if t.get("type", "SIMPLE") == "SIMPLE"} | {
        name
        for t in tasks
        for nested in [
            *(t.get("decisionCases") or {}).values(),
            t.get("defaultCase") or [],
            *(t.get("forkTasks") or []),
        ]
        for name in _simple_names(nested)
    }


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_each_fixture_registers_or_is_refused_naming_every_unsupported_type(api, fixture):
    definition = _load(fixture)
    unsupported = _types(definition["tasks"]) - SUPPORTED
    response = api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
    if not unsupported and fixture in KNOWN_REFUSALS:
        assert response.status_code == 400
        assert KNOWN_REFUSALS[fixture] in response.json()["message"]
        return
    if not unsupported:
        assert response.status_code == 200, response.text
        assert api.get(f"/api/metadata/workflow/{definition['name']}").status_code == 200
        return
    assert response.status_code == 400
    message = response.json()["message"]
    for kind in unsupported:
        assert f"task type '{kind}' is not supported by Podium yet" in message
    assert api.get(f"/api/metadata/workflow/{definition['name']}").status_code == 404


def _drive(api, run_id: str, names: set[str], timeout: float = 20) -> dict[str, Any]:
    """Act as a worker for every SIMPLE task type until the run ends."""
    deadline = time.monotonic() + timeout
    while (body := run(api, run_id))["status"] not in TERMINAL:
        assert time.monotonic() < deadline, body
        for name in names:
            for task in poll(api, name, count=5, timeout_ms=20):
                complete(api, task, {"by": task["referenceTaskName"], "input": task["inputData"]})
    return body


def test_conditional_flow_with_switch_takes_the_nested_javascript_branch(api):
    definition = _load("conditional_flow_with_switch.json")
    api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
    run_id = start(api, definition["name"], {"param1": "nested", "param2": "two"})
    body = _drive(api, run_id, _simple_names(definition["tasks"]))
    assert body["status"] == "COMPLETED"
    refs = [t["referenceTaskName"] for t in body["tasks"]]
    assert refs == ["conditional", "conditional2", "t2", "tf"]
    assert task_of(body, "t2")["inputData"] == {"tp1": "nested", "tp3": "two"}
    assert task_of(body, "conditional2")["outputData"]["evaluationResult"] == ["two"]


def test_kitchensink_wf2_runs_its_fork_to_the_end(api):
    definition = _load("kitchensink_wf2.json")
    api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
    run_id = start(api, definition["name"], {"mod": 3, "oddEven": 1})
    body = _drive(api, run_id, _simple_names(definition["tasks"]))
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"mod": 3, "oddEven": 1}
    done = {t["referenceTaskName"] for t in body["tasks"] if t["status"] == "COMPLETED"}
    assert {
        "task_5",
        "task_28",
        "task_10",
        "task_11",
        "task_20",
        "task_21",
        "join",
        "task_30",
    } <= done


def _pointed_at(name: str, host: str, url: str) -> dict[str, Any]:
    """A fixture with its HTTP calls sent to ``url`` (a local service) instead of ``host``."""
    definition: dict[str, Any] = json.loads((FIXTURES / name).read_text().replace(host, url))
    return definition


def test_conductors_flat_form_http_task_runs(api):
    with echo_service() as echo:
        definition = _pointed_at(
            "metadata_concurrency_check_http.json",
            "https://orkes-api-tester.orkesconductor.com",
            echo.url,
        )
        api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
        body = wait_status(api, start(api, definition["name"]))
    assert body["status"] == "COMPLETED", body
    assert [(s.method, s.path, s.headers["accept"]) for s in echo.seen] == [
        ("GET", "/api", "application/json")
    ]
    assert task_of(body, "http_ref")["outputData"]["response"]["body"] == {"path": "/api"}


def test_conductors_documented_http_dynamic_fork_runs_every_branch(api):
    with echo_service() as echo:
        definition = _pointed_at("docs_dynamic_fork_http.json", "https://imageResizeUrl", echo.url)
        api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
        body = wait_status(api, start(api, definition["name"]))
    assert body["status"] == "COMPLETED", body
    assert sorted(s.path.split("/")[1] for s in echo.seen) == ["imageName1", "imageName2"]
    join = task_of(body, "dynamic_workflow_array_http_join_ref")["outputData"]
    assert sorted(join) == ["_http_task_name_0", "_http_task_name_1"]
    for i in range(2):
        assert join[f"_http_task_name_{i}"]["response"]["statusCode"] == 200


@pytest.mark.parametrize(("a", "expected"), [(1, True), (2, False)])
def test_lambda_runs_its_script_as_a_function_body_over_dollar_inputs(api, a, expected):
    definition = _load("lambda_legacy_script.json")
    api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
    body = _drive(api, start(api, definition["name"], {"a": a}), set())
    assert body["status"] == "COMPLETED"
    lam = task_of(body, "lambda_1")
    assert lam["taskType"] == "LAMBDA"
    assert lam["outputData"] == {"result": {"testvalue": expected}}
    assert body["output"] == {"testvalue": expected}


@pytest.mark.parametrize(
    ("decisions", "joined"),
    [
        ({"decision_1": True, "decision_2": True}, "task3"),  # the first of joinOn that ran
        ({"decision_1": False}, "task4"),  # the other case's task in joinOn
        ({"decision_1": True, "decision_2": False}, "task2"),  # none ran: the first default
    ],
)
def test_exclusive_join_takes_the_output_of_the_one_branch_that_ran(api, decisions, joined):
    definition = _load("exclusive_join_decisions.json")
    api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
    run_id = start(api, definition["name"], {"payload": "p", **decisions})
    body = _drive(api, run_id, _simple_names(definition["tasks"]))
    assert body["status"] == "COMPLETED"
    join = task_of(body, "exclusiveJoin")
    assert join["status"] == "COMPLETED"
    assert join["outputData"] == task_of(body, joined)["outputData"]
    assert join["outputData"]["by"] == joined
    assert join["inputData"]["joinOn"] == ["task3", "task4"]
    assert join["inputData"]["defaultExclusiveJoinTask"] == ["task2", "task1"]


def test_a_lambda_script_that_throws_fails_its_task_with_the_error(api):
    step = {"name": "l", "taskReferenceName": "l", "type": "LAMBDA"}
    step["inputParameters"] = {"scriptExpression": "throw new Error('no ' + $.what);", "what": "x"}
    api.post(
        "/api/metadata/workflow", params={"overwrite": "true"}, json={"name": "lt", "tasks": [step]}
    )
    body = _drive(api, start(api, "lt"), set())
    assert body["status"] == "FAILED"
    lam = task_of(body, "l")
    assert lam["status"] == "FAILED"
    assert "no x" in lam["outputData"]["error"]
    assert "no x" in lam["reasonForIncompletion"]


def test_lambda_and_exclusive_join_refusals_name_the_field(api):
    lam = {"name": "l", "taskReferenceName": "l", "type": "LAMBDA", "inputParameters": {}}
    join = {"name": "j", "taskReferenceName": "j", "type": "EXCLUSIVE_JOIN"}
    join |= {"joinOn": ["l"], "defaultExclusiveJoinTask": ["nope"]}
    answer = api.post("/api/metadata/workflow", json={"name": "bad", "tasks": [lam, join]})
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert "tasks[0].inputParameters.scriptExpression (task 'l')" in message
    assert (
        "tasks[1].defaultExclusiveJoinTask[0] (task 'j'): no task has reference name 'nope'"
        in message
    )
    assert api.get("/api/metadata/workflow/bad").status_code == 404


def test_an_exclusive_join_in_a_loop_joins_its_own_iteration(api):
    def lam(ref: str, value: str) -> dict[str, Any]:
        return {"name": ref, "taskReferenceName": ref, "type": "LAMBDA", "inputParameters": {"scriptExpression": f"return '{value}';"}}  # fmt: skip

    switch = {
        "name": "pick", "taskReferenceName": "pick", "type": "SWITCH",
        "evaluatorType": "javascript", "expression": "$.i % 2 == 1 ? 'odd' : 'even'",
        "inputParameters": {"i": "${loop.output.iteration}"},
        "decisionCases": {"odd": [lam("odd", "o")]}, "defaultCase": [lam("even", "e")],
    }  # fmt: skip
    join = {
        "name": "j",
        "taskReferenceName": "j",
        "type": "EXCLUSIVE_JOIN",
        "joinOn": ["odd", "even"],
    }
    loop = {
        "name": "loop", "taskReferenceName": "loop", "type": "DO_WHILE",
        "loopCondition": "$.loop['iteration'] < 3", "loopOver": [switch, join],
    }  # fmt: skip
    answer = api.post(
        "/api/metadata/workflow",
        params={"overwrite": "true"},
        json={"name": "ej_loop", "tasks": [loop]},
    )
    assert answer.status_code == 200, answer.text
    body = _drive(api, start(api, "ej_loop"), set())
    assert body["status"] == "COMPLETED", body.get("reasonForIncompletion")
    joins = {
        t["referenceTaskName"]: t["outputData"]
        for t in body["tasks"]
        if t["taskType"] == "EXCLUSIVE_JOIN"
    }
    assert joins == {"j__1": {"result": "o"}, "j__2": {"result": "e"}, "j__3": {"result": "o"}}
