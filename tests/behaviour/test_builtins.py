"""Conductor's built-ins: ``${CPEWF_TASK_ID}`` is the task's own id, and ``${ref.X}`` reads the
task fields Conductor's ParametersUtils exposes, with times in epoch milliseconds."""

from __future__ import annotations

from typing import Any

from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status


def _step(ref: str, kind: str = "SIMPLE", **extra: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": kind, **extra}


FIELDS = [
    "taskType",
    "status",
    "referenceTaskName",
    "retryCount",
    "correlationId",
    "pollCount",
    "taskDefName",
    "scheduledTime",
    "startTime",
    "endTime",
    "workflowInstanceId",
    "taskId",
    "reasonForIncompletion",
    "callbackAfterSeconds",
    "workerId",
    "iteration",
]

BUILTINS = {
    "name": "builtins",
    "tasks": [
        _step("a", inputParameters={"me": "${CPEWF_TASK_ID}", "said": "id ${CPEWF_TASK_ID}"}),
        _step("b", inputParameters={field: "${a." + field + "}" for field in FIELDS}),
    ],
    "outputParameters": {"none": "${CPEWF_TASK_ID}", "b": "${b.taskId}"},
}


def test_a_tasks_input_reads_its_own_id_and_the_fields_of_the_tasks_before(api):
    register(api, BUILTINS)
    run_id = start(api, "builtins", correlationId="order-7")
    [a] = poll(api, "a", worker="worker-a")
    assert a["inputData"] == {"me": a["taskId"], "said": f"id {a['taskId']}"}
    assert complete(api, a, {"x": 1}, worker="worker-a").status_code == 200
    [b] = poll(api, "b")
    shown = task_of(wait_status(api, run_id, {"RUNNING"}), "a")
    # What ${a.X} gave b is what the API shows of a (both in Conductor's names and units).
    assert b["inputData"] == {field: shown[field] for field in FIELDS}
    assert b["inputData"]["taskId"] == a["taskId"]
    assert b["inputData"]["workerId"] == "worker-a"
    assert b["inputData"]["status"] == "COMPLETED"
    assert b["inputData"]["correlationId"] == "order-7"
    assert b["inputData"]["pollCount"] >= 1
    assert b["inputData"]["taskType"] == "a"
    times = [b["inputData"][t] for t in ("scheduledTime", "startTime", "endTime")]
    assert times == sorted(times)
    assert times[0] > 1_600_000_000_000  # epoch milliseconds
    complete(api, b)
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    # Outside a task's input there is no task for it to name.
    assert body["output"] == {"none": None, "b": b["taskId"]}


def test_a_failed_tasks_reason_and_retry_count_resolve(api):
    register(
        api,
        {
            "name": "builtins_retry",
            "tasks": [
                _step("flaky"),
                _step(
                    "after",
                    inputParameters={
                        "why": "${flaky.reasonForIncompletion}",
                        "tries": "${flaky.retryCount}",
                        "me": "${CPEWF_TASK_ID}",
                    },
                ),
            ],
        },
        [{"name": "flaky", "retryCount": 1, "retryDelaySeconds": 0, "responseTimeoutSeconds": 30}],
    )
    run_id = start(api, "builtins_retry")
    [first] = poll(api, "flaky")
    complete(api, first, status="FAILED", reason="busy")
    [second] = poll(api, "flaky")
    assert second["taskId"] != first["taskId"]
    complete(api, second)
    [after] = poll(api, "after")
    assert after["inputData"] == {"why": None, "tries": 1, "me": after["taskId"]}
    complete(api, after)
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_jsonpath_forms_beyond_dotted_paths_resolve(api):
    register(
        api,
        {
            "name": "builtins_jsonpath",
            "tasks": [
                _step("a"),
                _step(
                    "b",
                    inputParameters={
                        "statuses": "${a.output..status}",
                        "ids": "${a.output.items[*].id}",
                        "big": "${a.output.items[?(@.n > 1)].id}",
                        "last": "${a.output.items[-1].id}",
                        "text": "ids ${a.output.items[*].id}",
                        "none": "${a.output..missing}",
                    },
                ),
            ],
        },
    )
    response = api.post(
        "/api/metadata/workflow/validate",
        json={"name": "v", "tasks": [_step("a"), _step("b", inputParameters={"v": "${a..x}"})]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == []
    run_id = start(api, "builtins_jsonpath")
    [a] = poll(api, "a")
    items = [{"id": "x", "n": 1, "status": "ok"}, {"id": "y", "n": 2, "status": "late"}]
    complete(api, a, {"status": "done", "items": items})
    [b] = poll(api, "b")
    assert b["inputData"] == {
        "statuses": ["done", "ok", "late"],
        "ids": ["x", "y"],
        "big": ["y"],
        "last": "y",
        "text": 'ids ["x","y"]',
        "none": [],
    }
    complete(api, b)
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_a_compensation_steps_input_reads_its_own_id(api):
    register(
        api,
        {
            "name": "builtins_saga",
            "tasks": [
                _step(
                    "reserve",
                    compensation={
                        "name": "release",
                        "inputParameters": {"me": "${CPEWF_TASK_ID}", "of": "${reserve.taskId}"},
                    },
                ),
                _step("ship"),
            ],
        },
        [{"name": n, "retryCount": 0, "retryDelaySeconds": 0} for n in ("reserve", "ship")],
    )
    run_id = start(api, "builtins_saga")
    [reserve] = poll(api, "reserve")
    complete(api, reserve)
    [ship] = poll(api, "ship")
    complete(api, ship, status="FAILED", reason="no courier")
    [release] = poll(api, "release")
    assert release["inputData"] == {"me": release["taskId"], "of": reserve["taskId"]}
    complete(api, release)
    assert wait_status(api, run_id)["status"] == "COMPENSATED"


def test_a_dynamic_fork_branchs_own_input_reads_its_own_id(api):
    # The branches come as data (here the run's input, usually a task's output), as
    # Conductor's dynamic forks do; written in the fork's own inputParameters, the
    # expression would be the fork's input and read the fork's id.
    fork = {
        "name": "fan",
        "taskReferenceName": "fan",
        "type": "FORK_JOIN_DYNAMIC",
        "dynamicForkTasksParam": "tasks",
        "dynamicForkTasksInputParamName": "inputs",
        "inputParameters": {
            "tasks": "${workflow.input.tasks}",
            "inputs": "${workflow.input.inputs}",
        },
    }
    join = {"name": "j", "taskReferenceName": "j", "type": "JOIN"}
    register(api, {"name": "builtins_fork", "tasks": [fork, join]})
    tasks = [
        {
            "name": "leaf",
            "taskReferenceName": "leaf1",
            "inputParameters": {"me": "${CPEWF_TASK_ID}", "said": "id ${CPEWF_TASK_ID}"},
            "taskDefinition": {"name": "leaf", "retryCount": 1, "retryDelaySeconds": 0},
        },
        {"name": "leaf", "taskReferenceName": "leaf2", "inputParameters": {"n": 2}},
    ]
    # The fork's input for a branch is added as given, never read as an expression.
    inputs = {"leaf1": {"extra": "${CPEWF_TASK_ID}"}, "leaf2": {}}
    run_id = start(api, "builtins_fork", {"tasks": tasks, "inputs": inputs})
    branches = {t["referenceTaskName"]: t for t in poll(api, "leaf", count=2)}
    first = branches["leaf1"]
    assert first["inputData"] == {
        "me": first["taskId"],
        "said": f"id {first['taskId']}",
        "extra": "${CPEWF_TASK_ID}",
    }
    assert branches["leaf2"]["inputData"] == {"n": 2}
    complete(api, first, status="FAILED", reason="again")
    [retry] = poll(api, "leaf")
    assert retry["taskId"] != first["taskId"]
    assert retry["inputData"]["me"] == retry["taskId"]  # a retry reads its own, new id
    complete(api, retry)
    complete(api, branches["leaf2"])
    assert wait_status(api, run_id)["status"] == "COMPLETED"
