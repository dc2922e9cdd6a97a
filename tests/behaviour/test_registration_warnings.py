"""Registration is as lenient as Conductor's, but says what looks like a slip: unknown fields,
``${workflow.<unknown>}`` and references to later tasks come back as warnings naming the field,
with a "did you mean"; ``?strict=true`` refuses them with a 400 that changes nothing."""

from __future__ import annotations

import copy

from tests.behaviour.helpers import complete, poll, start, wait_status

TYPO = {
    "name": "greet_typo",
    "version": 1,
    "timeoutSecond": 30,
    "tasks": [
        {
            "name": "hello",
            "taskReferenceName": "hello",
            "inputParameter": {"who": "${workflow.input.who}"},
        },
        {
            "name": "shout",
            "taskReferenceName": "shout",
            "inputParameters": {
                "who": "${workflow.inptu.who}",
                "loud": "${louder.output.level}",
            },
        },
        {"name": "louder", "taskReferenceName": "louder"},
    ],
    "outputParameters": {"greeting": "${workflow.ouput.greeting}"},
}

EXPECTED = [
    "timeoutSecond: unknown field, ignored; did you mean 'timeoutSeconds'?",
    "tasks[0].inputParameter (task 'hello'): unknown field, ignored; "
    "did you mean 'inputParameters'?",
    "tasks[1].inputParameters (task 'shout'): '${workflow.inptu.who}' reads workflow.inptu, "
    "which is no field of a workflow; it resolves to null; did you mean 'input'?",
    "tasks[1].inputParameters (task 'shout'): '${louder.output.level}' refers to 'louder', "
    "which runs after it (tasks[2]); when this task starts it resolves to null",
    "outputParameters: '${workflow.ouput.greeting}' reads workflow.ouput, which is no field "
    "of a workflow; it resolves to null; did you mean 'output'?",
]


def test_a_definition_with_slips_registers_and_each_slip_is_a_warning(api):
    response = api.post("/api/metadata/workflow", json=TYPO)
    assert response.status_code == 200, response.text
    assert response.json() == {"registered": ["greet_typo:1"], "warnings": EXPECTED}
    assert response.headers["X-Podium-Warnings"] == "5"
    # Registered as Conductor would: the unknown fields are kept as they came.
    stored = api.get("/api/metadata/workflow/greet_typo").json()
    assert stored["tasks"][0]["inputParameter"] == {"who": "${workflow.input.who}"}


def test_strict_registration_refuses_the_slips_and_stores_nothing(api):
    response = api.post("/api/metadata/workflow", params={"strict": "true"}, json=TYPO)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "E_DEFINITION_WARNINGS"
    assert body["field"] == "timeoutSecond"
    for warning in EXPECTED:
        assert warning in body["message"]
    assert api.get("/api/metadata/workflow/greet_typo").status_code == 404
    # The bulk PUT is as strict, and names which definition of the list is at fault.
    clean = {"name": "greet_clean", "tasks": [{"name": "hello", "taskReferenceName": "hello"}]}
    bulk = api.put("/api/metadata/workflow", params={"strict": "true"}, json=[clean, TYPO])
    assert bulk.status_code == 400, bulk.text
    assert bulk.json()["field"] == "[1].timeoutSecond"
    assert "[1].tasks[0].inputParameter (task 'hello')" in bulk.json()["message"]
    assert api.get("/api/metadata/workflow/greet_clean").status_code == 404


def test_a_clean_definition_draws_no_warning_even_strictly(api):
    clean = copy.deepcopy(TYPO)
    del clean["timeoutSecond"]
    clean["name"] = "greet_clean"
    clean["tasks"][0]["inputParameters"] = clean["tasks"][0].pop("inputParameter")
    clean["tasks"][1]["inputParameters"] = {
        "who": "${workflow.input.who}",
        "id": "${workflow.workflowId}",
        "parent": "${workflow.parentWorkflowId}",
        "secret": "${workflow.secrets.TOKEN}",
        "first": "${hello.output.greeting}",
    }
    clean["outputParameters"] = {"greeting": "${louder.output.greeting}"}
    # Fields Conductor's SDK sends that Podium ignores are no slip either.
    clean["workflowStatusListenerEnabled"] = False
    clean["inputTemplate"] = {}
    clean["tasks"][2]["rateLimited"] = False
    response = api.post("/api/metadata/workflow", params={"strict": "true"}, json=clean)
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == []
    assert response.headers["X-Podium-Warnings"] == "0"


def test_task_definitions_warn_of_unknown_fields_and_strict_refuses_them(api):
    defs = [{"name": "hello", "retryCount": 1}, {"name": "shout", "retryDelaySecond": 5}]
    response = api.post("/api/metadata/taskdefs", json=defs)
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == [
        "[1].retryDelaySecond: unknown field, ignored; did you mean 'retryDelaySeconds'?"
    ]
    api.delete("/api/metadata/taskdefs/shout")
    strict = api.post("/api/metadata/taskdefs", params={"strict": "true"}, json=defs)
    assert strict.status_code == 400, strict.text
    assert strict.json()["field"] == "[1].retryDelaySecond"
    assert api.get("/api/metadata/taskdefs/shout").status_code == 404


def test_a_reference_to_a_task_that_does_not_exist_suggests_the_closest(api):
    flow = {
        "name": "greet_missing",
        "tasks": [
            {"name": "hello", "taskReferenceName": "hello"},
            {
                "name": "shout",
                "taskReferenceName": "shout",
                "inputParameters": {"x": "${helo.output.x}"},
            },
        ],
    }
    response = api.post("/api/metadata/workflow", json=flow)
    assert response.status_code == 400, response.text
    assert "refers to 'helo'" in response.json()["message"]
    assert "did you mean 'hello'?" in response.json()["message"]


def test_a_loop_reading_its_own_body_and_last_iteration_draws_no_warning(api):
    flow = {
        "name": "loop_fine",
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 3",
                "inputParameters": {"n": "${loop.output.iteration}", "s": "${step.output.x}"},
                "loopOver": [
                    {"name": "prep", "taskReferenceName": "prep", "inputParameters": {
                        "prev": "${step.output.x}"}},
                    {"name": "step", "taskReferenceName": "step"},
                ],
            }
        ],
    }  # fmt: skip
    response = api.post("/api/metadata/workflow", json=flow)
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == []


def test_workflow_builtins_podium_now_fills_resolve_as_in_conductor(api):
    flow = {
        "name": "builtins",
        "tasks": [
            {
                "name": "look",
                "taskReferenceName": "look",
                "inputParameters": {
                    "status": "${workflow.status}",
                    "reason": "${workflow.reasonForIncompletion}",
                    "type": "${workflow.workflowType}",
                },
            }
        ],
    }
    response = api.post("/api/metadata/workflow", json=flow)
    assert response.json()["warnings"] == [], response.text
    run_id = start(api, "builtins")
    (task,) = poll(api, "look")
    assert task["inputData"] == {"status": "RUNNING", "reason": None, "type": "builtins"}
    complete(api, task)
    assert wait_status(api, run_id)["status"] == "COMPLETED"
