"""SWITCH: value-param and javascript evaluators, default and empty cases, nesting."""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.events import Enqueue
from tests.unit.engine_helpers import Run, step, workflow


def _switch(
    ref: str,
    cases: dict[str, list[dict[str, Any]]],
    default: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "evaluatorType": "value-param",
        "expression": "kind",
        "inputParameters": {"kind": "${workflow.input.kind}"},
        "decisionCases": cases,
        **extra,
    }
    if default is not None:
        fields["defaultCase"] = default
    return step(ref, type="SWITCH", **fields)


ROUTE = workflow(
    [
        _switch(
            "route",
            {
                "express": [step("fast")],
                "1": [step("one")],
                "true": [step("yes")],
                "null": [step("none")],
                "multi": [step("m1"), step("m2")],
            },
            default=[step("slow")],
        ),
        step("after"),
    ]
)


@pytest.mark.parametrize(
    ("input", "case", "path"),
    [
        pytest.param({"kind": "express"}, "express", ["fast"], id="string"),
        pytest.param({"kind": 1}, "1", ["one"], id="int"),
        pytest.param({"kind": 1.0}, "1", ["one"], id="integral-float"),
        pytest.param({"kind": True}, "true", ["yes"], id="bool"),
        pytest.param({}, "null", ["none"], id="missing-is-null"),
        pytest.param({"kind": "multi"}, "multi", ["m1", "m2"], id="several-steps"),
        pytest.param({"kind": "other"}, "other", ["slow"], id="default"),
        pytest.param({"kind": "EXPRESS"}, "EXPRESS", ["slow"], id="case-sensitive"),
        pytest.param({"kind": 2.5}, "2.5", ["slow"], id="float"),
    ],
)
def test_value_param_picks_the_case_then_the_step_after_the_switch(input, case, path):
    run = Run(ROUTE, input)
    commands = run.start(now=100)
    route = run.latest("route")
    assert route.status == TaskStatus.COMPLETED
    assert (route.start_at, route.end_at) == (100, 100)
    assert route.output == {"evaluationResult": [case], "selectedCase": case}
    assert route.queue is None
    first = run.latest(path[0])
    assert commands == (Enqueue(first.task_id, path[0], 100, 3600),)
    now = 100
    for ref in path:
        assert run.active() == [ref]
        now += 10
        run.complete(ref, {"by": ref}, now=now)
    assert run.active() == ["after"]
    assert run.latest("after").scheduled_at == now
    run.complete("after", now=now + 1)
    assert run.status == RunStatus.COMPLETED
    assert run.refs() == ["route", *path, "after"]


@pytest.mark.parametrize(
    ("evaluator", "expression"),
    [
        ("javascript", "$.total > 100 ? 'big' : 'small'"),
        ("graaljs", "$.total > 100 ? 'big' : 'small'"),
        ("javascript", "(function(){ return $.total > 100 ? 'big' : 'small'; })()"),
        ("javascript", "function f() { return $.total > 100 ? 'big' : 'small'; } f();"),
        ("JavaScript", "$.total > 100 ? 'big' : 'small';"),
    ],
)
@pytest.mark.parametrize(("total", "path"), [(500, ["review"]), (5, ["quick"]), (101, ["review"])])
def test_javascript_switch(evaluator, expression, total, path):
    definition = workflow(
        [
            step(
                "size",
                type="SWITCH",
                evaluatorType=evaluator,
                expression=expression,
                inputParameters={"total": "${workflow.input.total}"},
                decisionCases={"big": [step("review")], "small": [step("quick")]},
            ),
            step("after"),
        ]
    )
    run = Run(definition, {"total": total})
    run.start(now=0)
    expected_case = "big" if path == ["review"] else "small"
    assert run.latest("size").output["evaluationResult"] == [expected_case]
    assert run.active() == path
    run.complete(path[0], now=1)
    assert run.active() == ["after"]


@pytest.mark.parametrize(
    ("expression", "case"),
    [
        ("$.items.length", "3"),
        ("$.items.includes('b')", "true"),
        ("$.name.toUpperCase()", "ADA"),
        ("$.missing", "null"),
        ("$.total / 4", "2.5"),
        ("$.total * 2", "20"),
    ],
)
def test_javascript_results_become_case_labels(expression, case):
    definition = workflow(
        [
            step(
                "s",
                type="SWITCH",
                evaluatorType="javascript",
                expression=expression,
                inputParameters={"items": ["a", "b", "c"], "name": "ada", "total": 10},
                decisionCases={"never": [step("x")]},
            )
        ]
    )
    run = Run(definition)
    run.start(now=0)
    assert run.latest("s").output == {"evaluationResult": [case], "selectedCase": case}
    assert run.status == RunStatus.COMPLETED


def test_a_javascript_error_at_run_time_fails_the_switch_and_the_run():
    definition = workflow(
        [
            step(
                "s",
                type="SWITCH",
                evaluatorType="javascript",
                expression="$.order.id > 1 ? 'a' : 'b'",
                inputParameters={"order": "${workflow.input.order}"},
                decisionCases={"a": [step("x")]},
                defaultCase=[step("y")],
            ),
            step("after"),
        ]
    )
    run = Run(definition, {})
    commands = run.start(now=0)
    assert commands == ()
    s = run.latest("s")
    assert s.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert s.reason and "id" in s.reason
    assert run.status == RunStatus.FAILED
    assert run.state.reason is not None
    assert run.state.reason.startswith("task 's' (s) FAILED_WITH_TERMINAL_ERROR: ")
    assert run.state.failed_refs == ["s"]
    assert run.refs() == ["s"]


def test_no_matching_case_and_no_default_goes_straight_on():
    run = Run(workflow([_switch("s", {"a": [step("x")]}), step("after")]), {"kind": "zzz"})
    run.start(now=0)
    assert run.refs() == ["s", "after"]
    assert run.active() == ["after"]


def test_an_empty_case_goes_straight_on():
    run = Run(workflow([_switch("s", {"a": [], "b": [step("x")]}), step("after")]), {"kind": "a"})
    run.start(now=0)
    assert run.refs() == ["s", "after"]


def test_an_empty_case_falls_back_to_the_default_case_as_in_conductor():
    # Conductor's SwitchTaskMapper: "if the tasks returned are empty based on evaluated case
    # value, then get the default case if there is one".
    definition = workflow([_switch("s", {"a": []}, default=[step("d")]), step("after")])
    run = Run(definition, {"kind": "a"})
    run.start(now=0)
    assert run.latest("s").output["selectedCase"] == "a"
    assert run.refs() == ["s", "d"]
    run.complete("d", now=1)
    assert run.refs() == ["s", "d", "after"]


def test_a_switch_at_the_end_with_nothing_to_run_completes_the_run():
    run = Run(workflow([_switch("s", {"a": [step("x")]})]), {"kind": "nope"})
    run.start(now=3)
    assert run.status == RunStatus.COMPLETED
    assert run.state.end_at == 3
    assert run.state.output == {"evaluationResult": ["nope"], "selectedCase": "nope"}


NESTED = workflow(
    [
        _switch(
            "outer",
            {
                "a": [
                    step(
                        "inner",
                        type="SWITCH",
                        evaluatorType="value-param",
                        expression="sub",
                        inputParameters={"sub": "${workflow.input.sub}"},
                        decisionCases={"x": [step("x1"), step("x2")]},
                        defaultCase=[step("y")],
                    ),
                    step("a_tail"),
                ]
            },
            default=[step("d")],
        ),
        step("after"),
    ]
)


@pytest.mark.parametrize(
    ("input", "path"),
    [
        ({"kind": "a", "sub": "x"}, ["x1", "x2", "a_tail", "after"]),
        ({"kind": "a", "sub": "q"}, ["y", "a_tail", "after"]),
        ({"kind": "b"}, ["d", "after"]),
    ],
)
def test_nested_switches_return_to_the_enclosing_list(input, path):
    run = Run(NESTED, input)
    run.start(now=0)
    for i, ref in enumerate(path):
        assert run.active() == [ref], run.refs()
        run.complete(ref, now=i + 1)
    assert run.status == RunStatus.COMPLETED
    switches = [ref for ref in run.refs() if ref in ("outer", "inner")]
    assert switches == (["outer", "inner"] if input["kind"] == "a" else ["outer"])
    assert [r for r in run.refs() if r not in ("outer", "inner")] == path


def test_system_steps_in_a_case_run_within_the_same_decision():
    definition = workflow(
        [
            _switch(
                "s",
                {"go": [step("v", type="SET_VARIABLE", inputParameters={"lane": "fast"})]},
                default=[step("w", type="SET_VARIABLE", inputParameters={"lane": "slow"})],
            ),
            step("after", inputParameters={"lane": "${workflow.variables.lane}"}),
        ]
    )
    run = Run(definition, {"kind": "go"})
    commands = run.start(now=0)
    after = run.latest("after")
    assert commands == (Enqueue(after.task_id, "after", 0, 3600),)
    assert after.input == {"lane": "fast"}
    assert run.refs() == ["s", "v", "after"]
