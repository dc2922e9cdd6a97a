"""The registration warnings' own knowledge: which ``${workflow.*}`` fields exist and which
definition fields Conductor's models have, kept in step with what they describe."""

from __future__ import annotations

import pytest

from podium.dsl.lint import (
    CONDUCTOR_ONLY_WORKFLOW_FIELDS,
    WORKFLOW_FIELDS,
    lint_task_def,
    lint_workflow,
)
from podium.dsl.models import TaskDef, WorkflowDef
from podium.dsl.suggestions import did_you_mean
from podium.engine.context import expression_context
from tests.unit.engine_helpers import fresh_state

# ``${workflow.*}`` in conductor-oss (ParametersUtils) and in Orkes (secrets, env).
CONDUCTOR_BUILTINS = {
    "input", "output", "status", "workflowId", "parentWorkflowId", "parentWorkflowTaskId",
    "workflowType", "version", "correlationId", "reasonForIncompletion", "schemaVersion",
    "variables", "secrets", "env",
}  # fmt: skip


def test_the_workflow_fields_warned_about_are_exactly_those_the_engine_does_not_fill():
    assert set(expression_context(fresh_state())["workflow"]) == WORKFLOW_FIELDS
    assert CONDUCTOR_BUILTINS <= WORKFLOW_FIELDS | CONDUCTOR_ONLY_WORKFLOW_FIELDS
    assert not WORKFLOW_FIELDS & CONDUCTOR_ONLY_WORKFLOW_FIELDS


def test_every_field_of_conductors_sdk_models_registers_without_a_warning():
    models = pytest.importorskip("conductor.client.http.models")
    task = {key: None for key in models.WorkflowTask.attribute_map.values()}
    task.update(name="a", taskReferenceName="a", type="SIMPLE")
    task.update(subWorkflowParam=dict.fromkeys(models.SubWorkflowParams.attribute_map.values()))
    task["subWorkflowParam"]["name"] = "child"
    task["taskDefinition"] = dict.fromkeys(models.TaskDef.attribute_map.values())
    task["taskDefinition"].update(name="a")
    data = {key: None for key in models.WorkflowDef.attribute_map.values()}
    data.update(name="wf", tasks=[task])
    parsed = WorkflowDef.model_validate(
        {"name": "wf", "tasks": [{"name": "a", "taskReferenceName": "a"}]}
    )
    assert lint_workflow(data, parsed) == []


def test_did_you_mean_names_the_closest_known_name_or_nothing():
    assert did_you_mean("inputParameter", ["inputParameters", "outputParameters"]) == (
        "; did you mean 'inputParameters'?"
    )
    assert did_you_mean("zzz", ["inputParameters"]) == ""


def test_an_embedded_task_definition_without_a_name_takes_the_tasks_and_warns():
    data = {
        "name": "wf",
        "tasks": [
            {"name": "charge", "taskReferenceName": "c", "taskDefinition": {"retryCount": 1}}
        ],
    }
    parsed = WorkflowDef.model_validate(data)
    embedded = parsed.tasks[0].taskDefinition
    assert embedded is not None
    assert (embedded.name, embedded.retryCount) == ("charge", 1)
    assert lint_workflow(data, parsed) == [
        "tasks[0].taskDefinition.name (task 'c'): missing; the task's name 'charge' is used"
    ]


def test_unknown_fields_are_named_at_every_depth():
    leaf = {"name": "n", "taskReferenceName": "n", "colour": "red"}
    data = {
        "name": "wf",
        "tasks": [
            {
                "name": "again",
                "taskReferenceName": "again",
                "type": "DO_WHILE",
                "loopCondition": "false",
                "loopOver": [
                    {
                        "name": "fan",
                        "taskReferenceName": "fan",
                        "type": "FORK_JOIN",
                        "forkTasks": [[leaf]],
                    },
                    {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
                ],
            }
        ],
    }
    assert lint_workflow(data, WorkflowDef.model_validate(data)) == [
        "tasks[0].loopOver[0].forkTasks[0][0].colour (task 'n'): unknown field, ignored"
    ]


def test_a_retry_count_above_a_thousand_registers_with_a_warning():
    assert TaskDef.model_validate({"name": "t", "retryCount": 5000}).retryCount == 5000
    assert lint_task_def({"name": "t", "retryCount": 5000}, "[0]") == [
        "[0].retryCount: 5000 retries is more than 1000; a failing task is tried 5001 times "
        "before its run fails"
    ]
    assert lint_task_def({"name": "t", "retryCount": 1000}) == []
    data = {
        "name": "wf",
        "tasks": [
            {
                "name": "a",
                "taskReferenceName": "a",
                "taskDefinition": {"name": "a", "retryCount": 1001},
            }
        ],
    }
    assert lint_workflow(data, WorkflowDef.model_validate(data)) == [
        "tasks[0].taskDefinition.retryCount (task 'a'): 1001 retries is more than 1000; "
        "a failing task is tried 1002 times before its run fails"
    ]
