"""Script-driven steps: INLINE, JSON_JQ_TRANSFORM, DECISION and SWITCH on full JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus, jq_step
from tests.unit.engine_helpers import Run, simple, step, workflow


@pytest.fixture(autouse=True)
def _jq_runs_in_the_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests drive the engine alone, with no jq executor to hand a slow query to. On a
    # loaded machine even a quick query can pass the decision's 50 ms (the first one starts
    # its child process), and would then wait on the executor's queue: give them the time.
    monkeypatch.setattr(jq_step, "INLINE_MS", 10_000)


def _inline(expression: str, evaluator: str = "javascript", **params: Any) -> dict[str, Any]:
    return step(
        "calc",
        type="INLINE",
        inputParameters={"evaluatorType": evaluator, "expression": expression, **params},
    )


@pytest.mark.parametrize(
    ("evaluator", "expression", "result"),
    [
        ("javascript", "$.a + $.b", 5),
        ("graaljs", "var total = 0; for (const n of $.list) { total += n; } total", 6),
        (
            "javascript",
            "(function () { return {sum: $.a + $.b, tag: 'x'}; })()",
            {"sum": 5, "tag": "x"},
        ),
        ("javascript", "$.list.map(n => n * 2)", [2, 4, 6]),
        ("value-param", "a", 2),
    ],
)
def test_inline_puts_the_value_in_result(evaluator, expression, result):
    run = Run(workflow([_inline(expression, evaluator, a=2, b=3, list=[1, 2, 3])]))
    commands = run.start(now=0)
    assert commands == ()
    calc = run.latest("calc")
    assert (calc.status, calc.output) == (TaskStatus.COMPLETED, {"result": result})
    assert run.status == RunStatus.COMPLETED


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("while (true) {}", "100 ms"),
        ("throw new Error('no stock')", "no stock"),
        ("$.nothing.here", "here"),
    ],
)
def test_a_script_that_fails_or_runs_forever_fails_the_inline_task(expression, words):
    run = Run(workflow([_inline(expression), simple("after")]))
    run.start(now=0)
    calc = run.latest("calc")
    assert calc.status == TaskStatus.FAILED
    assert calc.reason is not None and calc.reason.startswith("INLINE expression failed: ")
    assert words in calc.reason
    assert calc.output["error"] in calc.reason
    assert run.status == RunStatus.FAILED
    assert run.refs() == ["calc"]


def test_a_failed_inline_task_may_be_optional():
    definition = workflow([_inline("throw 1") | {"optional": True}, simple("after")])
    run = Run(definition)
    run.start(now=0)
    assert run.latest("calc").status == TaskStatus.COMPLETED_WITH_ERRORS
    assert run.active() == ["after"]


def _jq(query: str, **params: Any) -> dict[str, Any]:
    return step(
        "shape", type="JSON_JQ_TRANSFORM", inputParameters={"queryExpression": query, **params}
    )


def test_jq_gives_the_first_result_and_all_of_them():
    definition = workflow(
        [
            _jq(".items[] | {id, total: (.qty * .price)}", items="${workflow.input.items}"),
            simple("after") | {"inputParameters": {"first": "${shape.output.result.total}"}},
        ]
    )
    items = [{"id": "a", "qty": 2, "price": 3}, {"id": "b", "qty": 1, "price": 5}]
    run = Run(definition, {"items": items})
    run.start(now=0)
    shape = run.latest("shape")
    assert shape.output == {
        "result": {"id": "a", "total": 6},
        "resultList": [{"id": "a", "total": 6}, {"id": "b", "total": 5}],
    }
    assert run.latest("after").input == {"first": 6}


def test_a_jq_query_with_no_results_gives_a_null_result():
    run = Run(workflow([_jq(".missing[]?", missing=[])]))
    run.start(now=0)
    assert run.latest("shape").output == {"result": None, "resultList": []}


def test_a_bad_jq_query_fails_the_task_with_the_reason():
    run = Run(workflow([_jq(".a | nosuchfunction", a=1)]))
    run.start(now=0)
    shape = run.latest("shape")
    assert shape.status == TaskStatus.FAILED
    assert shape.reason is not None and shape.reason.startswith("jq query failed: ")
    assert "nosuchfunction" in shape.reason
    assert run.status == RunStatus.FAILED


@pytest.mark.parametrize(
    ("fields", "kind", "path"),
    [
        ({"caseValueParam": "kind"}, "express", ["fast"]),
        ({"caseValueParam": "kind"}, "normal", ["slow"]),
        ({"caseExpression": "$.kind == 'express' ? 'express' : 'other'"}, "express", ["fast"]),
        ({"caseExpression": "if ($.kind == 'express') { 'express' } else { 'x' }"}, "n", ["slow"]),
    ],
)
def test_decision_takes_the_case_of_its_value_or_expression(fields, kind, path):
    definition = workflow(
        [
            step(
                "route",
                type="DECISION",
                inputParameters={"kind": "${workflow.input.kind}"},
                decisionCases={"express": [simple("fast")]},
                defaultCase=[simple("slow")],
                **fields,
            ),
            simple("after"),
        ]
    )
    run = Run(definition, {"kind": kind})
    run.start(now=0)
    assert run.active() == path
    route = run.latest("route")
    assert route.output["caseOutput"][0] in ("express", "normal", "other", "x")
    run.complete(path[0], now=1)
    assert run.active() == ["after"]


def test_switch_runs_full_javascript_statements():
    definition = workflow(
        [
            step(
                "size",
                type="SWITCH",
                evaluatorType="graaljs",
                expression="let n = $.items.length; if (n > 2) { 'bulk' } else { 'small' }",
                inputParameters={"items": "${workflow.input.items}"},
                decisionCases={"bulk": [simple("pallet")], "small": [simple("parcel")]},
            )
        ]
    )
    run = Run(definition, {"items": [1, 2, 3]})
    run.start(now=0)
    assert run.active() == ["pallet"]
    assert run.latest("size").output == {"evaluationResult": ["bulk"], "selectedCase": "bulk"}
