"""Registration-time checks of DO_WHILE, dynamic forks, DYNAMIC, INLINE, jq, START_WORKFLOW,
DECISION: each problem names its field and task."""

from __future__ import annotations

from typing import Any

import pytest

from podium.dsl.models import WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.errors import DefinitionError


def _step(ref: str, type: str = "SIMPLE", **extra: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": type, **extra}


def _flow(*tasks: dict[str, Any]) -> WorkflowDef:
    return WorkflowDef.model_validate({"name": "x", "version": 1, "tasks": list(tasks)})


def _loop(
    body: list[dict[str, Any]],
    condition: str = "$.loop.iteration < 3",
    ref: str = "loop",
    **extra: Any,
) -> dict[str, Any]:
    return _step(ref, "DO_WHILE", loopCondition=condition, loopOver=body, **extra)


def _fork_dynamic(**extra: Any) -> dict[str, Any]:
    return _step("fork", "FORK_JOIN_DYNAMIC", **extra)


PROBLEMS = [
    pytest.param(
        [_step("loop", "DO_WHILE", loopCondition="true")],
        "tasks[0].loopOver (task 'loop')",
        "a DO_WHILE needs at least one task in loopOver",
        id="loop-without-body",
    ),
    pytest.param(
        [_step("loop", "DO_WHILE", loopOver=[_step("a")])],
        "tasks[0].loopCondition (task 'loop')",
        "a DO_WHILE needs a loopCondition",
        id="loop-without-condition",
    ),
    pytest.param(
        [_loop([_step("a")], evaluatorType="python")],
        "tasks[0].evaluatorType (task 'loop')",
        "'python' is not one of",
        id="loop-evaluator",
    ),
    pytest.param(
        [_loop([_step("a")], inputParameters={"keepLastN": 0})],
        "tasks[0].inputParameters.keepLastN (task 'loop')",
        "0 is not a whole number above 0",
        id="keep-last-n",
    ),
    pytest.param(
        [_loop([_step("a__2")])],
        "tasks[0].loopOver[0].taskReferenceName (task 'a__2')",
        "iterations add that suffix",
        id="loop-ref-suffix",
    ),
    pytest.param(
        [_step("a", loopOver=[_step("b")])],
        "tasks[0] (task 'a')",
        "only a DO_WHILE may have loopOver",
        id="loop-over-on-simple",
    ),
    pytest.param(
        [_fork_dynamic(inputParameters={"forkTaskInputs": [1]})],
        "tasks[0] (task 'fork')",
        "a FORK_JOIN_DYNAMIC must be followed by a JOIN",
        id="dynamic-fork-without-join",
    ),
    pytest.param(
        [_fork_dynamic(), _step("join", "JOIN")],
        "tasks[0].dynamicForkTasksParam (task 'fork')",
        "needs dynamicForkTasksParam and dynamicForkTasksInputParamName, or the input "
        "forkTaskInputs",
        id="dynamic-fork-without-tasks",
    ),
    pytest.param(
        [_step("d", "DYNAMIC")],
        "tasks[0].dynamicTaskNameParam (task 'd')",
        "a DYNAMIC task needs dynamicTaskNameParam",
        id="dynamic-without-param",
    ),
    pytest.param(
        [_step("j", "JSON_JQ_TRANSFORM", inputParameters={"x": 1})],
        "tasks[0].inputParameters.queryExpression (task 'j')",
        "a JSON_JQ_TRANSFORM needs a queryExpression",
        id="jq-without-query",
    ),
    pytest.param(
        [_step("d", "DECISION", caseExpression="$.a ==", decisionCases={"x": [_step("b")]})],
        "tasks[0].caseExpression (task 'd')",
        "SyntaxError",
        id="decision-syntax",
    ),
]


@pytest.mark.parametrize(("tasks", "where", "words"), PROBLEMS)
def test_a_problem_names_its_field_and_task(tasks, where, words):
    with pytest.raises(DefinitionError) as caught:
        validate_workflow(_flow(*tasks))
    message = caught.value.message
    assert f"{where}: " in message
    assert words in message


# What Conductor registers (it compiles these scripts only when they run, and does not look
# for the inputs a dynamic task names): a warning naming the field.
LENIENT = [
    pytest.param(
        [_step("i", "INLINE", inputParameters={"evaluatorType": "javascript"})],
        "tasks[0].inputParameters.expression (task 'i')",
        "an INLINE task needs an expression",
        id="inline-without-expression",
    ),
    pytest.param(
        [_step("i", "INLINE", inputParameters={"expression": "1"})],
        "tasks[0].inputParameters.evaluatorType (task 'i')",
        "'None' is not one of",
        id="inline-without-evaluator",
    ),
    pytest.param(
        [_step("s", "START_WORKFLOW", inputParameters={"startWorkflow": {"version": 1}})],
        "tasks[0].inputParameters.startWorkflow.name (task 's')",
        "a START_WORKFLOW needs the name of the workflow to start",
        id="start-workflow-without-name",
    ),
    pytest.param(
        [_step("j", "JSON_JQ_TRANSFORM", inputParameters={"queryExpression": ""})],
        "tasks[0].inputParameters.queryExpression (task 'j')",
        "'' is no jq query; the step fails when it runs",
        id="jq-empty-query",
    ),
    pytest.param(
        [_loop([_step("a")], "if ($.x { true }")],
        "tasks[0].loopCondition (task 'loop')",
        "SyntaxError",
        id="loop-condition-syntax",
    ),
    pytest.param(
        [
            _fork_dynamic(
                dynamicForkTasksParam="tasks",
                dynamicForkTasksInputParamName="inputs",
                inputParameters={"tasks": []},
            ),
            _step("join", "JOIN"),
        ],
        "tasks[0].inputParameters (task 'fork')",
        "dynamicForkTasksInputParamName names input 'inputs', which inputParameters does not have",
        id="dynamic-fork-missing-input",
    ),
    pytest.param(
        [_step("d", "DYNAMIC", dynamicTaskNameParam="taskToExecute")],
        "tasks[0].inputParameters (task 'd')",
        "names input 'taskToExecute', which inputParameters does not have",
        id="dynamic-param-missing",
    ),
    pytest.param(
        [_step("i", "INLINE", inputParameters={"evaluatorType": "graaljs", "expression": "1 +"})],
        "tasks[0].inputParameters.expression (task 'i')",
        "SyntaxError",
        id="inline-syntax",
    ),
]


@pytest.mark.parametrize(("tasks", "where", "words"), LENIENT)
def test_what_conductor_registers_is_a_warning_naming_its_field(tasks, where, words):
    warnings = validate_workflow(_flow(*tasks))
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{where}: ")
    assert words in warnings[0]


def test_an_unknown_iteration_inside_a_loop_warns_as_conductor_registers_it():
    warnings = validate_workflow(
        _flow(_loop([_step("a", inputParameters={"x": "${b__1.output}"})]))
    )
    assert len(warnings) == 1
    assert warnings[0].startswith("tasks[0].loopOver[0].inputParameters (task 'a'): ")
    assert "refers to 'b__1'" in warnings[0]


def test_an_empty_loop_condition_warns_and_a_missing_one_is_refused():
    empty = _loop([_step("a")])
    empty["loopCondition"] = ""
    warnings = validate_workflow(_flow(empty))
    assert warnings == [
        "tasks[0].loopCondition (task 'loop'): the loopCondition is empty, so the loop runs "
        "its body once; give a condition such as \"$.loop['iteration'] < 3\""
    ]
    missing = _loop([_step("a")])
    del missing["loopCondition"]
    with pytest.raises(DefinitionError) as caught:
        validate_workflow(_flow(missing))
    assert "tasks[0].loopCondition (task 'loop'): a DO_WHILE needs a loopCondition" in (
        caught.value.message
    )


VALID = [
    pytest.param(
        [
            _loop(
                [
                    _step("a", inputParameters={"prev": "${a.output.n}", "i": "${loop.output}"}),
                    _step("b", inputParameters={"first": "${a__1.output.n}"}),
                ],
                "if ($.loop['iteration'] < 3) { true; } else { false; }",
                inputParameters={"keepLastN": 2},
            ),
            _step("after", inputParameters={"last": "${b.output}", "two": "${b__2.output}"}),
        ],
        id="loop",
    ),
    pytest.param(
        [_loop([_loop([_step("leaf")], ref="inner")], "$.loop.iteration < 2")],
        id="nested-loop",
    ),
    pytest.param([_loop([_step("a")], "again", evaluatorType="value-param")], id="value-param"),
    pytest.param(
        [
            _fork_dynamic(
                dynamicForkTasksParam="tasks",
                dynamicForkTasksInputParamName="inputs",
                inputParameters={"tasks": "${workflow.input.t}", "inputs": {}},
            ),
            _step("join", "JOIN"),
        ],
        id="dynamic-fork",
    ),
    pytest.param(
        [
            _fork_dynamic(inputParameters={"forkTaskName": "w", "forkTaskInputs": [1, 2]}),
            _step("join", "JOIN"),
        ],
        id="dynamic-fork-simple",
    ),
    pytest.param(
        [_step("d", "DYNAMIC", dynamicTaskNameParam="t", inputParameters={"t": "x"})],
        id="dynamic",
    ),
    pytest.param(
        [
            _step(
                "i",
                "INLINE",
                inputParameters={"evaluatorType": "javascript", "expression": "while (true) {}"},
            )
        ],
        id="inline-js-runs-later",
    ),
    pytest.param(
        [_step("i", "INLINE", inputParameters={"evaluatorType": "value-param", "expression": "a"})],
        id="inline-value-param",
    ),
    pytest.param(
        [_step("j", "JSON_JQ_TRANSFORM", inputParameters={"queryExpression": ".a"})], id="jq"
    ),
    pytest.param(
        [_step("s", "START_WORKFLOW", inputParameters={"startWorkflow": {"name": "w"}})],
        id="start-workflow",
    ),
    pytest.param([_step("h", "HUMAN"), _step("n", "NOOP")], id="human-noop"),
    pytest.param(
        [
            _step(
                "d",
                "DECISION",
                caseValueParam="k",
                inputParameters={"k": 1},
                decisionCases={"1": [_step("one")]},
                defaultCase=[_step("other")],
            )
        ],
        id="decision",
    ),
]


@pytest.mark.parametrize("tasks", VALID)
def test_valid_definitions_pass(tasks):
    validate_workflow(_flow(*tasks))
