"""validate_workflow: every problem listed, each naming its field path and task reference."""

from __future__ import annotations

from typing import Any

import pytest

from podium.dsl.models import TaskType, WorkflowDef
from podium.dsl.validation import TASK_FIELDS, UNSUPPORTED_YET, validate_workflow
from podium.engine.context import expression_context
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.errors import DefinitionError, ValidationError


def _step(ref: str, type: str = "SIMPLE", **extra: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": type, **extra}


def _flow(*tasks: dict[str, Any], **extra: Any) -> WorkflowDef:
    return WorkflowDef.model_validate({"name": "x", "version": 3, "tasks": list(tasks), **extra})


def _problem(definition: WorkflowDef) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        validate_workflow(definition)
    error = caught.value
    assert error.service == "dsl"
    assert error.code == "E_DEFINITION"
    assert error.status_code == 400
    assert error.message.startswith("workflow 'x' v3 is not valid: ")
    return error


FORK = _step("fork", "FORK_JOIN", forkTasks=[[_step("l")], [_step("r")]])

CASES = [
    pytest.param(
        [_step("a", "NOPE")], "tasks[0].type", "a", "unknown task type 'NOPE'", id="unknown-type"
    ),
    pytest.param(
        [_step("a", "KAFKA_PUBLISH")],
        "tasks[0].type",
        "a",
        "task type 'KAFKA_PUBLISH' is not supported by Podium yet",
        id="not-yet",
    ),
    pytest.param(
        [_step("a", "EVENT")],
        "tasks[0].sink",
        "a",
        "an EVENT task needs a sink",
        id="event-no-sink",
    ),
    pytest.param(
        [_step("a", "DECISION")],
        "tasks[0].caseValueParam",
        "a",
        "a DECISION needs caseValueParam or caseExpression",
        id="decision",
    ),
    pytest.param(
        [_step("a", "simple")],
        "tasks[0].type",
        "a",
        "unknown task type 'simple'",
        id="type-is-case-sensitive",
    ),
    pytest.param(
        [FORK, _step("after")],
        "tasks[0]",
        "fork",
        "must be followed by a JOIN",
        id="fork-then-simple",
    ),
    pytest.param(
        [_step("fork", "FORK_JOIN"), _step("j", "JOIN")],
        "tasks[0].forkTasks",
        "fork",
        "at least one branch",
        id="fork-no-branches",
    ),
    pytest.param(
        [FORK, _step("join", "JOIN", joinOn=["l", "ghost"])],
        "tasks[1].joinOn[1]",
        "join",
        "no task has reference name 'ghost'",
        id="bad-join-on",
    ),
    pytest.param(
        [_step("a", inputParameters={"v": "${ghost.output.x}"})],
        "tasks[0].inputParameters",
        "a",
        "'${ghost.output.x}' refers to 'ghost', which is no task reference name",
        id="unknown-ref",
    ),
    pytest.param(
        [_step("s", "SWITCH", evaluatorType="python", expression="x")],
        "tasks[0].evaluatorType",
        "s",
        "'python' is not one of graaljs, javascript, value-param",
        id="bad-evaluator",
    ),
    pytest.param(
        [_step("s", "SWITCH", expression="x")],
        "tasks[0].evaluatorType",
        "s",
        "'None' is not one of",
        id="missing-evaluator",
    ),
    pytest.param(
        [_step("s", "SWITCH", evaluatorType="value-param")],
        "tasks[0].expression",
        "s",
        "a SWITCH needs an expression",
        id="missing-expression",
    ),
    pytest.param(
        [_step("s", "SWITCH", evaluatorType="javascript", expression="if ($.a { 'x' }")],
        "tasks[0].expression",
        "s",
        "",
        id="js-statement",
    ),
    pytest.param(
        [_step("s", "SWITCH", evaluatorType="javascript", expression="$.a >")],
        "tasks[0].expression",
        "s",
        "",
        id="js-syntax",
    ),
    pytest.param(
        [_step("h", "HTTP")],
        "tasks[0].inputParameters.http_request.uri",
        "h",
        "an HTTP task needs a uri",
        id="http-no-request",
    ),
    pytest.param(
        [_step("h", "HTTP", inputParameters={"http_request": {"method": "GET", "uri": ""}})],
        "tasks[0].inputParameters.http_request.uri",
        "h",
        "needs a uri",
        id="http-empty-uri",
    ),
    pytest.param(
        [_step("w", "WAIT", inputParameters={"duration": "soon"})],
        "tasks[0].inputParameters.duration",
        "w",
        "cannot read duration 'soon'",
        id="wait-duration",
    ),
    pytest.param(
        [_step("w", "WAIT", inputParameters={"until": "next tuesday"})],
        "tasks[0].inputParameters.until",
        "w",
        "cannot read time 'next tuesday'",
        id="wait-until",
    ),
    pytest.param(
        [_step("c", "SUB_WORKFLOW")],
        "tasks[0].subWorkflowParam",
        "c",
        "needs subWorkflowParam.name",
        id="sub-no-params",
    ),
    pytest.param(
        [_step("t", "TERMINATE", inputParameters={"terminationStatus": "DONE"})],
        "tasks[0].inputParameters.terminationStatus",
        "t",
        "'DONE' is not one of COMPLETED, FAILED, TERMINATED",
        id="terminate-status",
    ),
    pytest.param(
        [_step("a", decisionCases={"x": [_step("b")]})],
        "tasks[0]",
        "a",
        "only a SWITCH or DECISION may have decisionCases/defaultCase",
        id="cases-on-simple",
    ),
    pytest.param(
        [_step("a", forkTasks=[[_step("b")]])],
        "tasks[0]",
        "a",
        "only a FORK_JOIN may have forkTasks",
        id="branches-on-simple",
    ),
    # Nested steps are named by their full path.
    pytest.param(
        [
            _step(
                "s",
                "SWITCH",
                evaluatorType="value-param",
                expression="k",
                decisionCases={"a": [_step("in", "NOPE")]},
            )
        ],
        "tasks[0].decisionCases.a[0].type",
        "in",
        "unknown task type",
        id="nested-in-case",
    ),
    pytest.param(
        [
            _step(
                "s",
                "SWITCH",
                evaluatorType="value-param",
                expression="k",
                defaultCase=[_step("h", "HTTP")],
            )
        ],
        "tasks[0].defaultCase[0].inputParameters.http_request.uri",
        "h",
        "needs a uri",
        id="nested-in-default",
    ),
]


@pytest.mark.parametrize(("tasks", "field", "ref", "words"), CASES)
def test_a_problem_names_its_field_path_and_task(tasks, field, ref, words):
    error = _problem(_flow(*tasks))
    assert error.field == field
    assert f"{field} (task '{ref}'): " in error.message
    assert words in error.message


def test_a_duplicate_reference_names_both_places():
    error = _problem(_flow(_step("a"), _step("b"), _step("a", name="other")))
    assert error.field == "tasks[2].taskReferenceName"
    assert "tasks[2].taskReferenceName: 'a' is already used at tasks[0]" in error.message


def test_a_duplicate_reference_inside_a_case_is_found_too():
    switch = _step(
        "s",
        "SWITCH",
        evaluatorType="value-param",
        expression="k",
        decisionCases={"x": [_step("a")]},
    )
    error = _problem(_flow(_step("a"), switch))
    assert error.field == "tasks[1].decisionCases.x[0].taskReferenceName"
    assert "'a' is already used at tasks[0]" in error.message


def test_top_level_steps_may_only_refer_to_known_tasks_as_conductor_checks():
    error = _problem(_flow(_step("a", inputParameters={"v": "${ghst.output}"})))
    assert "'${ghst.output}' refers to 'ghst'" in error.message


def test_a_malformed_reference_is_a_definition_problem_with_its_place():
    error = _problem(_flow(_step("a", inputParameters={"v": {"w": "${a[x]}"}})))
    assert error.field == "tasks[0].inputParameters.v.w"
    assert "tasks[0].inputParameters.v.w (task 'a'): malformed reference '${a[x]}'" in error.message


# What Conductor registers: returned as warnings, each naming its field and task.
LENIENT = [
    pytest.param(
        [_step("a", inputParameters={"env": "${NETFLIX_ENV}"})],
        "tasks[0].inputParameters (task 'a')",
        "'${NETFLIX_ENV}' is a Conductor system parameter, which Podium does not provide",
        id="system-parameter",
    ),
    pytest.param(
        [_step("a", "EVENT", sink="kafka:orders")],
        "tasks[0].sink (task 'a')",
        "sink 'kafka:orders' names no known broker (known: 'amqp:', 'amqp_queue:', 'conductor:', "
        "'nats:', 'nats_stream:'); the step fails when it runs",
        id="event-unknown-broker",
    ),
    pytest.param(
        [_step("s", "SWITCH", evaluatorType="graaljs", expression="$.a ) (")],
        "tasks[0].expression (task 's')",
        "the step fails when it runs",
        id="graaljs-switch-syntax",
    ),
    pytest.param(
        [FORK],
        "tasks[0] (task 'fork')",
        "a FORK_JOIN should be followed by a JOIN; without one the run ends when its branches end",
        id="fork-last",
    ),
    pytest.param(
        [_step("a"), _step("b", inputParameters={"deep": {"list": ["${a.outputs.x}"]}})],
        "tasks[1].inputParameters (task 'b')",
        "'${a.outputs.x}' reads 'outputs' of task 'a', which resolves to null: a task has no "
        "such field; did you mean 'output'?",
        id="bad-task-field",
    ),
    pytest.param(
        [
            _step(
                "fork",
                "FORK_JOIN",
                forkTasks=[
                    [_step("left")],
                    [_step("r", inputParameters={"v": "${lefft.output}"})],
                ],
            ),
            _step("join", "JOIN", joinOn=["left", "r"]),
        ],
        "tasks[0].forkTasks[1][0].inputParameters (task 'r')",
        "'${lefft.output}' refers to 'lefft', which is no task reference name in this workflow; "
        "it resolves to null; did you mean 'left'?",
        id="nested-in-branch",
    ),
]


@pytest.mark.parametrize(("tasks", "where", "words"), LENIENT)
def test_what_conductor_registers_is_a_warning_naming_its_field(tasks, where, words):
    warnings = validate_workflow(_flow(*tasks))
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{where}: ")
    assert words in warnings[0]


def test_output_parameters_referring_to_an_unknown_task_warn():
    warnings = validate_workflow(
        _flow(_step("a"), outputParameters={"r": "${ghost.output.r}", "ok": "${a.output.x}"})
    )
    assert warnings == [
        "outputParameters: '${ghost.output.r}' refers to 'ghost', which is no task reference "
        "name in this workflow; it resolves to null"
    ]


def test_a_valid_definition_draws_no_warning():
    assert (
        validate_workflow(_flow(_step("a"), _step("b", inputParameters={"v": "${a.output}"}))) == []
    )


def test_every_problem_is_listed_and_the_field_is_the_first():
    definition = _flow(
        _step("a", "NOPE"),
        _step("a"),
        _step("h", "HTTP"),
        _step("w", "WAIT", inputParameters={"duration": "soon"}),
        _step("b", inputParameters={"v": "${ghost.output}"}),
    )
    error = _problem(definition)
    assert error.field == "tasks[0].type"
    for piece in (
        "tasks[0].type (task 'a')",
        "tasks[1].taskReferenceName: 'a' is already used at tasks[0]",
        "tasks[2].inputParameters.http_request.uri (task 'h')",
        "tasks[3].inputParameters.duration (task 'w')",
        "tasks[4].inputParameters (task 'b')",
    ):
        assert piece in error.message
    assert error.message.count("; ") == 4


def test_definition_error_is_a_validation_error():
    error = _problem(_flow(_step("a", "NOPE")))
    assert isinstance(error, ValidationError)
    assert error.to_dict()["field"] == "tasks[0].type"


@pytest.mark.parametrize("kind", sorted(UNSUPPORTED_YET))
def test_every_not_yet_supported_type_says_so(kind):
    error = _problem(_flow(_step("a", kind)))
    assert f"task type '{kind}' is not supported by Podium yet" in error.message


def test_supported_and_unsupported_types_do_not_overlap():
    assert not UNSUPPORTED_YET & {t.value for t in TaskType}


VALID = [
    pytest.param(
        [
            _step("a"),
            _step("b", inputParameters={"x": "${a.output.x}", "w": "${workflow.input.w}"}),
        ],
        id="sequence",
    ),
    pytest.param(
        [
            _step("a"),
            _step(
                "b",
                inputParameters={
                    "s": "${a.status}",
                    "id": "${a.taskId}",
                    "r": "${a.retryCount}",
                    "why": "${a.reasonForIncompletion}",
                    "sub": "${a.subWorkflowId}",
                    "in": "${a.input.q}",
                    "whole": "${a}",
                    "escaped": "$${not.a.ref}",
                },
            ),
        ],
        id="task-fields",
    ),
    pytest.param(
        [
            _step(
                "s",
                "SWITCH",
                evaluatorType="javascript",
                expression="$.x > 1 ? 'a' : 'b'",
                decisionCases={"a": [_step("x1")], "b": []},
                defaultCase=[_step("d")],
            ),
            _step("after", inputParameters={"v": "${x1.output.v}"}),
        ],
        id="switch-js",
    ),
    pytest.param(
        [_step("s", "SWITCH", evaluatorType="Value-Param", expression="k")], id="evaluator-any-case"
    ),
    pytest.param([FORK, _step("join", "JOIN", joinOn=["l", "r"])], id="fork-join"),
    pytest.param(
        [_step("c", "SUB_WORKFLOW", subWorkflowParam={"name": "child", "version": 1})], id="sub"
    ),
    pytest.param(
        [
            _step(
                "h",
                "HTTP",
                inputParameters={"http_request": {"uri": "http://x/${workflow.input.id}"}},
            )
        ],
        id="http",
    ),
    pytest.param(
        [
            _step("w1", "WAIT", inputParameters={"duration": "1d 2h"}),
            _step("w2", "WAIT", inputParameters={"until": "2026-11-23 15:00 UTC"}),
            _step("w3", "WAIT", inputParameters={"duration": "${workflow.input.d}"}),
            _step("w4", "WAIT"),
        ],
        id="waits",
    ),
    pytest.param(
        [
            _step("t1", "TERMINATE", inputParameters={"terminationStatus": "FAILED"}),
            _step("t2", "TERMINATE", inputParameters={"terminationStatus": "${workflow.input.s}"}),
        ],
        id="terminate",
    ),
    pytest.param([_step("v", "SET_VARIABLE", inputParameters={"x": 1})], id="set-variable"),
]


@pytest.mark.parametrize("tasks", VALID)
def test_valid_definitions_pass(tasks):
    validate_workflow(_flow(*tasks, outputParameters={"id": "${workflow.workflowId}"}))


def test_a_malformed_reference_in_a_nested_step_warns_as_conductor_checks_none_there():
    switch = _step(
        "s",
        "SWITCH",
        evaluatorType="value-param",
        expression="k",
        decisionCases={"x": [_step("a", inputParameters={"v": "${a[x]}"})]},
    )
    warnings = validate_workflow(_flow(switch))
    assert warnings == [
        "tasks[0].decisionCases.x[0].inputParameters.v (task 'a'): malformed reference "
        "'${a[x]}': expected a path such as '${workflow.input.name}' or "
        "'${taskRef.output.items[0].id}'"
    ]


def test_a_compensation_referring_to_an_unknown_task_stays_refused():
    # Compensations are Podium's own: nothing there is left to resolve to null.
    undo = {"name": "refund", "inputParameters": {"v": "${ghost.output}"}}
    error = _problem(_flow(_step("charge", compensation=undo)))
    assert error.field == "tasks[0].compensation.inputParameters"
    assert "refers to 'ghost', which is no task reference name in this workflow" in error.message
    assert "resolves to null" not in error.message


def test_the_task_fields_registration_knows_are_those_a_reference_can_read():
    state = RunState(run_id="r", name="w", version=1, status=RunStatus.RUNNING, created_at=0)
    task = TaskState(
        task_id="t",
        ref="a",
        name="a",
        type="SIMPLE",
        status=TaskStatus.SCHEDULED,
        seq=0,
        scheduled_at=0,
    )
    state.tasks.append(task)
    assert set(expression_context(state)["a"]) == TASK_FIELDS


def test_a_tasks_own_id_in_its_input_is_no_warning():
    assert validate_workflow(_flow(_step("a", inputParameters={"id": "${CPEWF_TASK_ID}"}))) == []


@pytest.mark.parametrize(
    "reference",
    [
        "${a.output..status}",
        "${a..status}",
        "${a.output.items[*].id}",
        "${a.output.items[?(@.n > 1)]}",
        "${a.*}",
        "${$.a.output.x}",
        "${$..status}",
    ],
)
def test_jsonpath_references_register_without_a_warning(reference):
    flow = _flow(_step("a"), _step("b", inputParameters={"v": reference}))
    assert validate_workflow(flow) == []


def test_a_jsonpath_reference_to_an_unknown_task_is_still_refused():
    error = _problem(_flow(_step("a"), _step("b", inputParameters={"v": "${ghost..x}"})))
    assert "refers to 'ghost'" in error.message
