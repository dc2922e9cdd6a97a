"""DO_WHILE, dynamic forks, DYNAMIC, HUMAN, INLINE, jq, START_WORKFLOW, NOOP and DECISION,
end to end through the API with workers polling for their tasks."""

from __future__ import annotations

import threading
import time

import httpx

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status


def _step(ref, name=None, **extra):
    return {"name": name or ref, "taskReferenceName": ref, **extra}


def _refs(body):
    return [t["referenceTaskName"] for t in body["tasks"]]


NO_RETRY = [{"name": "work", "retryCount": 0}, {"name": "after", "retryCount": 0}]


def test_do_while_runs_the_body_until_the_condition_is_false(api):
    flow = {
        "name": "loop3",
        "tasks": [
            _step(
                "loop",
                type="DO_WHILE",
                inputParameters={"times": "${workflow.input.times}"},
                loopCondition="if ($.loop['iteration'] < $.times) { true; } else { false; }",
                loopOver=[
                    _step("work", inputParameters={"i": "${loop.output.iteration}"}),
                ],
            ),
            _step("after", inputParameters={"last": "${work.output.seen}"}),
        ],
    }
    register(api, flow, NO_RETRY)
    run_id = start(api, "loop3", {"times": 3})
    for i in (1, 2, 3):
        [task] = poll(api, "work")
        assert task["referenceTaskName"] == f"work__{i}"
        assert task["inputData"] == {"i": i}
        assert task["iteration"] == i
        assert complete(api, task, {"seen": i}).status_code == 200
    [after] = poll(api, "after")
    assert after["inputData"] == {"last": 3}
    complete(api, after)
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert _refs(body) == ["loop", "work__1", "work__2", "work__3", "after"]
    loop = task_of(body, "loop")
    assert loop["iteration"] == 3
    assert loop["outputData"] == {
        "iteration": 3,
        "1": {"work": {"seen": 1}},
        "2": {"work": {"seen": 2}},
        "3": {"work": {"seen": 3}},
    }


def test_nested_do_while(api):
    inner = _step(
        "inner",
        type="DO_WHILE",
        loopCondition="$.inner.iteration < 2",
        loopOver=[_step("work")],
    )
    flow = {
        "name": "nested",
        "tasks": [
            _step("outer", type="DO_WHILE", loopCondition="$.outer.iteration < 2", loopOver=[inner])
        ],
        "outputParameters": {"outer": "${outer.output}"},
    }
    register(api, flow, NO_RETRY)
    run_id = start(api, "nested")
    seen = []
    for _ in range(4):
        [task] = poll(api, "work")
        seen.append(task["referenceTaskName"])
        complete(api, task, {"ref": task["referenceTaskName"]})
    assert seen == ["work__1__1", "work__1__2", "work__2__1", "work__2__2"]
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert _refs(body) == [
        "outer",
        "inner__1",
        "work__1__1",
        "work__1__2",
        "inner__2",
        "work__2__1",
        "work__2__2",
    ]
    outer = body["output"]["outer"]
    assert outer["iteration"] == 2
    assert outer["2"]["work"] == {"ref": "work__2__2"}
    assert outer["1"]["inner"]["2"] == {"work": {"ref": "work__1__2"}}


def test_do_while_keeps_only_the_last_n_iterations(api):
    flow = {
        "name": "keep",
        "tasks": [
            _step(
                "loop",
                type="DO_WHILE",
                inputParameters={"keepLastN": 2},
                loopCondition="$.loop.iteration < 5",
                loopOver=[
                    _step(
                        "count",
                        type="INLINE",
                        inputParameters={
                            "evaluatorType": "javascript",
                            "expression": "$.i * 10",
                            "i": "${loop.output.iteration}",
                        },
                    ),
                    _step("work", inputParameters={"n": "${count.output.result}"}),
                ],
            )
        ],
    }
    register(api, flow, NO_RETRY)
    run_id = start(api, "keep")
    task_ids = []
    for i in range(1, 6):
        [task] = poll(api, "work")
        assert task["inputData"] == {"n": i * 10}
        complete(api, task)
        task_ids.append(task["taskId"])
    assert api.get(f"/api/tasks/{task_ids[0]}").status_code == 404
    assert api.get(f"/api/tasks/{task_ids[-1]}").json()["referenceTaskName"] == "work__5"
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert _refs(body) == ["loop", "count__4", "work__4", "count__5", "work__5"]
    output = task_of(body, "loop")["outputData"]
    assert sorted(output) == ["4", "5", "iteration"]
    assert output["5"]["count"] == {"result": 50}


def test_an_inline_script_that_runs_forever_fails_with_the_reason_and_the_server_goes_on(api):
    register(
        api,
        {
            "name": "spin",
            "tasks": [
                _step(
                    "calc",
                    type="INLINE",
                    inputParameters={"evaluatorType": "javascript", "expression": "for (;;) {}"},
                )
            ],
        },
    )
    register(
        api,
        {
            "name": "sum",
            "tasks": [
                _step(
                    "calc",
                    type="INLINE",
                    inputParameters={
                        "evaluatorType": "graaljs",
                        "expression": "$.values.reduce((a, b) => a + b, 0)",
                        "values": "${workflow.input.values}",
                    },
                )
            ],
            "outputParameters": {"total": "${calc.output.result}"},
        },
    )
    answered: list[int] = []

    def ask_meanwhile(base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=10) as other:
            for _ in range(10):
                answered.append(other.get("/api/metadata/workflow").status_code)

    spinners = [start(api, "spin") for _ in range(3)]
    asker = threading.Thread(target=ask_meanwhile, args=(str(api.base_url),))
    asker.start()
    for run_id in spinners:
        body = wait_status(api, run_id)
        assert body["status"] == "FAILED"
        calc = task_of(body, "calc")
        assert calc["status"] == "FAILED"
        assert calc["reasonForIncompletion"] == (
            "INLINE expression failed: script ran longer than 100 ms and was stopped"
        )
    asker.join(timeout=20)
    assert answered == [200] * 10
    done = wait_status(api, start(api, "sum", {"values": [1, 2, 3.5]}))
    assert (done["status"], done["output"]) == ("COMPLETED", {"total": 6.5})


def test_json_jq_transform(api):
    flow = {
        "name": "jq",
        "tasks": [
            _step(
                "shape",
                type="JSON_JQ_TRANSFORM",
                inputParameters={
                    "queryExpression": "[.orders[] | select(.total > 10) | .id]",
                    "orders": "${workflow.input.orders}",
                },
            )
        ],
        "outputParameters": {"big": "${shape.output.result}"},
    }
    register(api, flow)
    orders = [{"id": "a", "total": 5}, {"id": "b", "total": 50}, {"id": "c", "total": 11}]
    body = wait_status(api, start(api, "jq", {"orders": orders}))
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"big": ["b", "c"]}
    assert task_of(body, "shape")["outputData"]["resultList"] == [["b", "c"]]


def test_dynamic_fork_with_three_branches_joins_them_all(api):
    flow = {
        "name": "fan_out",
        "tasks": [
            _step(
                "fork",
                type="FORK_JOIN_DYNAMIC",
                dynamicForkTasksParam="dynamicTasks",
                dynamicForkTasksInputParamName="dynamicTasksInput",
                inputParameters={
                    "dynamicTasks": "${workflow.input.tasks}",
                    "dynamicTasksInput": "${workflow.input.inputs}",
                },
            ),
            _step("join", type="JOIN"),
            _step("after", inputParameters={"all": "${join.output}"}),
        ],
    }
    register(api, flow, NO_RETRY)
    tasks = [{"name": "work", "taskReferenceName": f"ship_{i}"} for i in range(3)]
    inputs = {f"ship_{i}": {"parcel": i} for i in range(3)}
    run_id = start(api, "fan_out", {"tasks": tasks, "inputs": inputs})
    branches = poll(api, "work", count=3)
    assert sorted(t["referenceTaskName"] for t in branches) == ["ship_0", "ship_1", "ship_2"]
    for task in branches:
        assert task["inputData"] == {"parcel": int(task["referenceTaskName"][-1])}
    for task in branches[:2]:
        complete(api, task, {"done": task["referenceTaskName"]})
    assert task_of(run(api, run_id), "join")["status"] == "IN_PROGRESS"
    complete(api, branches[2], {"done": branches[2]["referenceTaskName"]})
    [after] = poll(api, "after")
    assert after["inputData"] == {"all": {f"ship_{i}": {"done": f"ship_{i}"} for i in range(3)}}
    complete(api, after)
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "fork")["inputData"]["forkedTasks"] == ["ship_0", "ship_1", "ship_2"]


def test_dynamic_fork_simple_form(api):
    flow = {
        "name": "fan_simple",
        "tasks": [
            _step(
                "fork",
                type="FORK_JOIN_DYNAMIC",
                inputParameters={"forkTaskName": "work", "forkTaskInputs": [{"a": 1}, {"a": 2}]},
            ),
            _step("join", type="JOIN"),
        ],
    }
    register(api, flow, NO_RETRY)
    run_id = start(api, "fan_simple")
    branches = poll(api, "work", count=2)
    assert sorted(t["referenceTaskName"] for t in branches) == ["_work_0", "_work_1"]
    for task in branches:
        complete(api, task, {"doubled": task["inputData"]["a"] * 2})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"_work_0": {"doubled": 2}, "_work_1": {"doubled": 4}}


def test_dynamic_runs_the_task_its_input_names(api):
    flow = {
        "name": "dyn",
        "tasks": [
            _step(
                "pay",
                type="DYNAMIC",
                dynamicTaskNameParam="taskToExecute",
                inputParameters={
                    "taskToExecute": "${workflow.input.method}",
                    "amount": "${workflow.input.amount}",
                },
            )
        ],
    }
    register(api, flow, [{"name": "pay_by_card", "retryCount": 0}])
    run_id = start(api, "dyn", {"method": "pay_by_card", "amount": 12})
    [task] = poll(api, "pay_by_card")
    assert task["referenceTaskName"] == "pay"
    assert task["taskType"] == "pay_by_card"
    assert task["inputData"] == {"taskToExecute": "pay_by_card", "amount": 12}
    complete(api, task, {"paid": True})
    body = wait_status(api, run_id)
    assert (body["status"], body["output"]) == ("COMPLETED", {"paid": True})


def test_human_task_waits_until_completed_through_the_api(api):
    flow = {
        "name": "review",
        "tasks": [
            _step("approve", type="HUMAN", inputParameters={"doc": "${workflow.input.doc}"}),
            _step("noop", type="NOOP"),
        ],
        "outputParameters": {"by": "${approve.output.by}"},
    }
    register(api, flow)
    run_id = start(api, "review", {"doc": "d-1"})
    time.sleep(0.3)
    body = run(api, run_id)
    assert body["status"] == "RUNNING"
    assert task_of(body, "approve")["status"] == "IN_PROGRESS"
    assert poll(api, "HUMAN", timeout_ms=100) == []
    response = api.post(f"/api/tasks/{run_id}/approve/COMPLETED", json={"by": "grace"})
    assert response.status_code == 200, response.text
    body = wait_status(api, run_id)
    assert (body["status"], body["output"]) == ("COMPLETED", {"by": "grace"})
    assert task_of(body, "noop")["status"] == "COMPLETED"


def test_start_workflow_starts_an_independent_run_that_can_be_fetched(api):
    register(
        api,
        {
            "name": "audit",
            "tasks": [_step("note", type="SET_VARIABLE", inputParameters={"order": 1})],
            "outputParameters": {"order": "${workflow.input.order}"},
        },
    )
    register(
        api,
        {
            "name": "kickoff",
            "tasks": [
                _step(
                    "kick",
                    type="START_WORKFLOW",
                    inputParameters={
                        "startWorkflow": {
                            "name": "audit",
                            "input": {"order": "${workflow.input.order}"},
                            "correlationId": "audit-7",
                        }
                    },
                ),
            ],
            "outputParameters": {"started": "${kick.output.workflowId}"},
        },
    )
    run_id = start(api, "kickoff", {"order": "o-7"})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    started = body["output"]["started"]
    assert task_of(body, "kick")["outputData"] == {"workflowId": started}
    other = wait_status(api, started)
    assert other["workflowName"] == "audit"
    assert other["parentWorkflowId"] is None
    assert other["correlationId"] == "audit-7"
    assert other["output"] == {"order": "o-7"}


def test_start_workflow_of_an_unknown_workflow_fails_the_task(api):
    register(
        api,
        {
            "name": "kick_ghost",
            "tasks": [
                _step(
                    "kick",
                    type="START_WORKFLOW",
                    inputParameters={"startWorkflow": {"name": "ghost"}},
                )
            ],
        },
    )
    body = wait_status(api, start(api, "kick_ghost"))
    assert body["status"] == "FAILED"
    kick = task_of(body, "kick")
    assert kick["status"] == "FAILED"
    assert "no workflow definition 'ghost'" in kick["reasonForIncompletion"]


def test_decision_and_a_javascript_switch(api):
    flow = {
        "name": "route",
        "tasks": [
            _step(
                "legacy",
                type="DECISION",
                caseValueParam="kind",
                inputParameters={"kind": "${workflow.input.kind}"},
                decisionCases={
                    "express": [_step("fast", type="SET_VARIABLE", inputParameters={"l": "f"})]
                },
                defaultCase=[_step("slow", type="SET_VARIABLE", inputParameters={"l": "s"})],
            ),
            _step(
                "size",
                type="SWITCH",
                evaluatorType="javascript",
                expression="const n = $.items.length; n > 2 ? 'bulk' : 'small'",
                inputParameters={"items": "${workflow.input.items}"},
                decisionCases={
                    "bulk": [_step("pallet", type="SET_VARIABLE", inputParameters={"s": "b"})]
                },
            ),
        ],
        "outputParameters": {"lane": "${workflow.variables.l}", "size": "${workflow.variables.s}"},
    }
    register(api, flow)
    body = wait_status(api, start(api, "route", {"kind": "express", "items": [1, 2, 3]}))
    assert body["output"] == {"lane": "f", "size": "b"}
    assert task_of(body, "legacy")["outputData"] == {"caseOutput": ["express"]}
    body = wait_status(api, start(api, "route", {"kind": "other", "items": []}))
    assert body["output"] == {"lane": "s", "size": None}
