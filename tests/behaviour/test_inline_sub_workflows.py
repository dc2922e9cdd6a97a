"""Inline sub-workflows: a SUB_WORKFLOW whose ``subWorkflowParam.workflowDefinition`` is the
definition its child runs, registered nowhere; checked when the parent is registered."""

from __future__ import annotations

from typing import Any

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

CHILD = {
    "tasks": [
        {"name": "inl_w", "taskReferenceName": "w", "inputParameters": {"x": "${workflow.input.x}"}}
    ],
    "outputParameters": {"got": "${w.output.got}"},
}


def _parent(name: str, params: dict[str, Any]) -> dict[str, Any]:
    step = {
        "name": "child_step",
        "taskReferenceName": "sub",
        "type": "SUB_WORKFLOW",
        "inputParameters": {"x": "${workflow.input.x}"},
        "subWorkflowParam": params,
    }
    return {"name": name, "tasks": [step], "outputParameters": {"got": "${sub.output.got}"}}


def _run_child(api, parent: str) -> tuple[dict[str, Any], dict[str, Any]]:
    run_id = start(api, parent, {"x": 5})
    [task] = poll(api, "inl_w")
    assert task["inputData"] == {"x": 5}
    complete(api, task, {"got": "done"})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED", body
    assert body["output"] == {"got": "done"}
    return body, run(api, task_of(body, "sub")["subWorkflowId"])


def test_an_inline_sub_workflow_runs_without_being_registered(api):
    register(api, _parent("inl_named", {"workflowDefinition": {**CHILD, "name": "inl_child"}}))
    _, child = _run_child(api, "inl_named")
    assert child["workflowName"] == "inl_child"
    assert child["inlineDefinitionHash"]
    assert api.get("/api/metadata/workflow/inl_child").status_code == 404


def test_an_unnamed_inline_sub_workflow_takes_the_params_name_or_the_steps(api):
    register(api, _parent("inl_unnamed", {"workflowDefinition": CHILD}))
    _, child = _run_child(api, "inl_unnamed")
    assert child["workflowName"] == "child_step"
    register(api, _parent("inl_param", {"name": "given", "workflowDefinition": CHILD}))
    _, child = _run_child(api, "inl_param")
    assert child["workflowName"] == "given"


def test_an_inline_sub_workflow_is_checked_at_registration(api):
    bad = {"tasks": [{"name": "x", "taskReferenceName": "x", "type": "NO_SUCH_TYPE"}]}
    response = api.post(
        "/api/metadata/workflow", json=_parent("inl_bad", {"workflowDefinition": bad})
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "tasks[0].subWorkflowParam.workflowDefinition.tasks[0].type"
    empty = api.post(
        "/api/metadata/workflow", json=_parent("inl_empty", {"workflowDefinition": {}})
    )
    assert empty.status_code == 400, empty.text
    assert empty.json()["field"].startswith("tasks[0].subWorkflowParam.workflowDefinition")
    neither = api.post("/api/metadata/workflow", json=_parent("inl_none", {"version": 1}))
    assert neither.status_code == 400, neither.text
    assert "subWorkflowParam" in neither.json()["field"]
