"""Real Conductor definitions (from conductor-oss): every one registers and runs to completion."""

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
# Sub-workflows the fixtures start, registered before the rest.
CHILDREN = ("kitchensink_sub_flow_1.json",)


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


def _fixtures() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("fixture", _fixtures())
def test_each_fixture_registers(api, fixture):
    definition = _load(fixture)
    assert _types(definition["tasks"]) <= SUPPORTED
    response = api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
    assert response.status_code == 200, response.text
    stored = api.get(f"/api/metadata/workflow/{definition['name']}")
    assert stored.status_code == 200
    assert stored.json()["version"] == definition.get("version", 1)


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


def _pointed_at(value: Any, url: str) -> Any:
    """``value`` with every HTTP task's uri sent to the local service ``url``, path kept."""
    if isinstance(value, dict):
        found = {k: _pointed_at(v, url) for k, v in value.items()}
        request = found.get("http_request")
        if isinstance(request, dict) and isinstance(request.get("uri"), str):
            path = request["uri"].split("://", 1)[-1].partition("/")[2]
            found["http_request"] = {**request, "uri": f"{url}/{path}"}
        return found
    if isinstance(value, list):
        return [_pointed_at(v, url) for v in value]
    return value


def _worker_types(api, run_id: str) -> set[str]:
    """Task types a worker must serve now in the run ``run_id`` and its child runs."""
    types: set[str] = set()
    for task in run(api, run_id)["tasks"]:
        if task["status"] in ("SCHEDULED", "IN_PROGRESS") and task["taskType"] not in SUPPORTED:
            types.add(task["taskType"])
        if task.get("subWorkflowId"):
            types |= _worker_types(api, task["subWorkflowId"])
    return types


def _serve_until_done(
    api,
    run_id: str,
    output: dict[str, Any],
    timeout: float = 30,
    by_type: dict[str, dict[str, Any]] | None = None,
) -> dict:
    """Complete every worker task the run and its children schedule, until the run ends;
    each answers ``output``, or ``by_type[its type]`` where given."""
    deadline = time.monotonic() + timeout
    while (body := run(api, run_id))["status"] not in TERMINAL:
        assert time.monotonic() < deadline, body
        types = _worker_types(api, run_id)
        if not types:
            time.sleep(0.05)  # system tasks (HTTP, the sub-workflows' starts) under way
        for kind in types:
            for task in poll(api, kind, count=5, timeout_ms=20):
                answer = (by_type or {}).get(kind, output)
                complete(api, task, {**answer, "by": task["referenceTaskName"]})
    return body


# Per fixture: the run's input, what every worker answers, and what the finished run shows:
# its output and the reference names of its tasks.
RUNS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], set[str]]] = {
    "conditional_flow.json": (
        {"param1": "nested", "param2": "two"},
        {},
        {"caseOutput": ["{workflow.input.finalCase}"]},
        {"conditional", "conditional2", "t2", "tf"},
    ),
    "conditional_flow_with_switch.json": (
        {"param1": "nested", "param2": "two"},
        {},
        {
            "evaluationResult": ["{workflow.input.finalCase}"],
            "selectedCase": "{workflow.input.finalCase}",
        },
        {"conditional", "conditional2", "t2", "tf"},
    ),
    "examples_dowhile-workflow.json": (
        {},
        {},
        {"iterations": 3, "sampledAt": None},
        {"poll_loop", "summarize", *(f"fetch_current_time__{i}" for i in (1, 2, 3))},
    ),
    # task2Name names the DYNAMIC task's type; its oddEven of 1 takes the fork of two
    # sub-workflows. The deep scans (``..``) give the list of what they find in get_es_1's
    # output: none, as the local echo service it is sent to answers no such fields.
    "kitchensink_kitchensink.json": (
        {"mod": 3, "oddEven": 1, "task2Name": "task_2_worker"},
        {"mod": 3, "oddEven": 1},
        {"statues": [], "workflowIds": []},
        {"task_1", "event_0", "task_2", "oddEvenDecision", "forkx", "task_10", "task_11"}
        | {"wf3", "wf4", "join2", "get_es_1", "task_30"},
    ),
    "kitchensink_sub_flow_1.json": ({}, {}, {"by": "task_6"}, {"task_5", "task_6"}),
    # Conductor 1's references without ``${}`` are plain text: the DYNAMIC task's type is the
    # text itself, and no case of the DECISION matches.
    "kitchensink_wf1.json": (
        {"mod": 3, "oddEven": 1},
        {},
        {"by": "task_30"},
        {"task_1", "task_2", "task_3", "oddEvenDecision", "task_28", "task_29", "task_30"},
    ),
    "kitchensink_wf2.json": (
        {"mod": 3, "oddEven": 1},
        {},
        {"mod": 3, "oddEven": 1},
        {"task_5", "task_28", "forkx", "task_10", "task_11", "task_20", "task_21", "join"}
        | {"task_30"},
    ),
    "metadata_dyn_fork_test.json": (
        {},
        {},
        {f"simple_{i}": {"by": f"simple_{i}"} for i in (1, 2, 3)},
        {"inline_ref", "dyn_fork_ref", "simple_1", "simple_2", "simple_3", "join_1"},
    ),
    # The local service answers its path, not the fields the script reads.
    "quickstart_workflow.json": (
        {},
        {},
        {
            "summary": "Host undefined responded in undefined with random value undefined",
            "apiResponse": {"path": "/api"},
        },
        {"fetch_ref", "parse_ref"},
    ),
    "simple_json_jq_transform_integration_test.json": (
        {"in1": {"array": [1, 2]}, "in2": {"array": [3]}},
        {},
        {"result": {"out": [1, 2, 3]}, "resultList": [{"out": [1, 2, 3]}]},
        {"jq_1"},
    ),
}


# Fixtures whose runs need more than RUNS can say (a service standing in for another host,
# several inputs each taking a different branch): each has tests of its own below.
RUN_BY_OWN_TESTS = {
    "docs_dynamic_fork_http.json",
    "exclusive_join_decisions.json",
    "lambda_legacy_script.json",
    "metadata_concurrency_check_http.json",
    "parameters_utils_task_refs.json",
}


def test_every_fixture_has_a_run():
    # A fixture added to the corpus needs its entry in RUNS: how it is started and what it ends
    # with (or tests of its own, named in RUN_BY_OWN_TESTS).
    assert set(_fixtures()) - set(RUNS) - RUN_BY_OWN_TESTS == set()
    assert set(RUNS) - set(_fixtures()) == set()
    assert RUN_BY_OWN_TESTS <= set(_fixtures())


@pytest.mark.parametrize("fixture", sorted(RUNS))
def test_each_fixture_runs_to_completion(api, fixture):
    """Workers served by the test, sub-workflows registered, HTTP calls sent to a local
    service: each fixture's run completes as Conductor's would."""
    with echo_service() as service:
        for name in (*CHILDREN, fixture):
            definition = _pointed_at(_load(name), service.url)
            response = api.post(
                "/api/metadata/workflow", params={"overwrite": "true"}, json=definition
            )
            assert response.status_code == 200, response.text
        data, output, expected, refs = RUNS[fixture]
        run_id = start(api, definition["name"], data)
        body = _serve_until_done(api, run_id, output)
        calls = [seen.path for seen in service.seen]
    assert body["status"] == "COMPLETED", body.get("reasonForIncompletion")
    assert body["output"] == expected
    assert {t["referenceTaskName"] for t in body["tasks"]} == refs
    assert {t["status"] for t in body["tasks"]} == {"COMPLETED"}
    http = [t for t in body["tasks"] if t["taskType"] == "HTTP"]
    assert len(calls) == len(http)
    if fixture == "kitchensink_kitchensink.json":
        assert calls == ["/conductor/_search?size=10"]
        for ref in ("wf3", "wf4"):
            child = run(api, task_of(body, ref)["subWorkflowId"])
            assert (child["workflowName"], child["status"]) == ("sub_flow_1", "COMPLETED")


def test_the_kitchensinks_even_branch_fans_out_the_tasks_a_worker_chose(api):
    with echo_service() as service:
        for name in (*CHILDREN, "kitchensink_kitchensink.json"):
            definition = _pointed_at(_load(name), service.url)
            api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
        run_id = start(api, "kitchensink", {"mod": 2, "oddEven": 0, "task2Name": "task_2_worker"})
        chosen = [
            {"name": "task_10", "taskReferenceName": "fan_a", "type": "SIMPLE"},
            {"name": "sub_flow", "taskReferenceName": "fan_b", "type": "SUB_WORKFLOW"}
            | {"subWorkflowParam": {"name": "sub_flow_1", "version": 1}},
        ]
        body = _serve_until_done(
            api,
            run_id,
            {"mod": 2, "oddEven": 0},
            by_type={
                "task_4": {
                    "dynamicTasks": chosen,
                    "inputs": {"fan_a": {"n": 1}, "fan_b": {"n": 2}},
                }
            },
        )
    assert body["status"] == "COMPLETED", body.get("reasonForIncompletion")
    refs = {t["referenceTaskName"] for t in body["tasks"]}
    assert {"task_4", "fanout1", "fan_a", "fan_b", "join1", "get_es_1", "task_30"} <= refs
    assert "forkx" not in refs
    assert task_of(body, "fan_a")["inputData"] == {"n": 1}
    child = run(api, task_of(body, "fan_b")["subWorkflowId"])
    assert (child["workflowName"], child["status"]) == ("sub_flow_1", "COMPLETED")


def _hosted_at(name: str, host: str, url: str) -> dict[str, Any]:
    """A fixture with its HTTP calls sent to ``url`` (a local service) instead of ``host``."""
    definition: dict[str, Any] = json.loads((FIXTURES / name).read_text().replace(host, url))
    return definition


def test_conductors_flat_form_http_task_runs(api):
    with echo_service() as echo:
        definition = _hosted_at(
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
        definition = _hosted_at("docs_dynamic_fork_http.json", "https://imageResizeUrl", echo.url)
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


def test_a_task_sees_its_own_id_and_an_earlier_tasks_fields(api):
    definition = _load("parameters_utils_task_refs.json")
    api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
    run_id = start(api, definition["name"], {"requestId": "req-1", "status": "ok"})
    [first] = poll(api, "task_2", worker="worker-7")
    assert first["inputData"] == {
        "taskId": first["taskId"],
        "entryPoint": f"{first['taskId']} ok",
    }
    complete(api, first, {"location": "s3://bucket/key"}, worker="worker-7")
    [second] = poll(api, "task_1")
    done = task_of(run(api, run_id), "task2")
    assert second["inputData"] == {
        "workflowInputParam": "req-1",
        "taskOutputParam": "s3://bucket/key",
        "constParam": "Some String value",
        "nullValue": None,
        "task2Status": "COMPLETED",
        "null": None,
        "task_id": second["taskId"],
        "env": {"env_task_id": second["taskId"]},
        "task2StartTime": done["startTime"],
        "task2EndTime": done["endTime"],
        "task2WorkerId": "worker-7",
        "task2PollCount": 1,
    }
    assert isinstance(done["startTime"], int) and done["endTime"] >= done["startTime"] > 0
    complete(api, second, {})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"location": "s3://bucket/key", "t1TaskId": second["taskId"]}
