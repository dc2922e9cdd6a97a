"""The one walk of a definition, and the one reading of a ``${}`` path's head."""

from __future__ import annotations

import pytest

from podium.dsl import expressions, walk
from podium.dsl.models import WorkflowDef, WorkflowTask


def step(ref: str, **fields) -> dict:
    return {"name": ref, "taskReferenceName": ref, **fields}


DEFINITION = WorkflowDef.model_validate(
    {
        "name": "deep",
        "tasks": [
            step("a", compensation={"name": "undo_a"}),
            step(
                "route",
                type="SWITCH",
                decisionCases={"x": [step("in_case")], "y": []},
                defaultCase=[step("in_default")],
            ),
            step(
                "fan",
                type="FORK_JOIN",
                forkTasks=[
                    [step("left")],
                    [
                        step(
                            "again",
                            type="DO_WHILE",
                            loopOver=[
                                step(
                                    "inner",
                                    type="DO_WHILE",
                                    loopOver=[step("deepest", compensation={"name": "undo"})],
                                )
                            ],
                        )
                    ],
                ],
            ),
            step("join", type="JOIN", joinOn=["left", "again"]),
            step(
                "child",
                type="SUB_WORKFLOW",
                subWorkflowParam={"workflowDefinition": {"tasks": [step("hidden")]}},
            ),
        ],
    }
)


def test_every_step_at_any_depth_with_its_path_in_document_order():
    found = [(place.path, place.step.taskReferenceName) for place in walk.walk(DEFINITION.tasks)]
    assert found == [
        ("tasks[0]", "a"),
        ("tasks[1]", "route"),
        ("tasks[1].decisionCases.x[0]", "in_case"),
        ("tasks[1].defaultCase[0]", "in_default"),
        ("tasks[2]", "fan"),
        ("tasks[2].forkTasks[0][0]", "left"),
        ("tasks[2].forkTasks[1][0]", "again"),
        ("tasks[2].forkTasks[1][0].loopOver[0]", "inner"),
        ("tasks[2].forkTasks[1][0].loopOver[0].loopOver[0]", "deepest"),
        ("tasks[3]", "join"),
        ("tasks[4]", "child"),
    ]
    assert [s.taskReferenceName for s in walk.steps(DEFINITION.tasks)] == [r for _, r in found]


def test_a_place_knows_its_parents_loops_and_siblings():
    places = {p.step.taskReferenceName: p for p in walk.walk(DEFINITION.tasks, "x.tasks")}
    deepest = places["deepest"]
    assert [p.step.taskReferenceName for p in deepest.parents] == ["inner", "again", "fan"]
    assert deepest.loops == ["inner", "again"]
    assert places["left"].loops == [] and places["left"].kind == "fork"
    assert places["in_default"].kind == "default" and places["in_case"].kind == "case"
    assert places["join"].kind == "top" and places["join"].parent is None
    assert places["join"].siblings[places["join"].position - 1].taskReferenceName == "fan"
    assert places["inner"].path == "x.tasks[2].forkTasks[1][0].loopOver[0]"


def test_compensations_and_inline_definitions_are_named_by_place():
    places = list(walk.walk(DEFINITION.tasks))
    undo = [(path, c.name) for path, _, c in walk.compensations(places)]
    assert undo == [
        ("tasks[0].compensation", "undo_a"),
        ("tasks[2].forkTasks[1][0].loopOver[0].loopOver[0].compensation", "undo"),
    ]
    [(path, owner, body)] = walk.inline_definitions(places)
    assert path == "tasks[4].subWorkflowParam.workflowDefinition"
    assert owner.step.taskReferenceName == "child"
    assert body["name"] == "child" and body["tasks"][0]["taskReferenceName"] == "hidden"


def test_a_deep_definition_is_walked_without_recursion():
    # Built with model_copy, level by level: validating it whole would recurse in pydantic.
    tasks = [WorkflowTask.model_validate(step("leaf"))]
    for i in range(3000):
        tasks = [tasks[0].model_copy(update={"taskReferenceName": f"l{i}", "loopOver": tasks})]
    *_, deepest = walk.walk(tasks)
    assert deepest.path.count("loopOver[0]") == 3000 and len(deepest.loops) == 3000
    assert sum(1 for _ in walk.steps(tasks)) == 3001


@pytest.mark.parametrize(
    ("path", "head"),
    [
        ("a.output.b", ("a", "output")),
        ("a.output['x-y']", ("a", "output")),
        ('a.output["x"]', ("a", "output")),
        ("a.output.list[0]", ("a", "output")),
        ("a['output'].x", ("a", "output")),
        ('a["outptu"]', ("a", "outptu")),
        ("workflow.input.x", ("workflow", "input")),
        ("a", ("a", None)),
        ("a[0]", ("a", None)),
        ("a.output..id", ("a", "output")),
        ("a.output[*].id", ("a", "output")),
        ("a..id", ("a", None)),
        ("$.a.output.x", ("a", "output")),
        ("$..id", None),
        ("$[*]", None),
    ],
)
def test_the_head_of_a_reference_path(path, head):
    assert expressions.reference_head(path) == head


def test_bracketed_keys_are_the_keys_themselves():
    assert expressions.reference_segments("a.output['x-y'][0][\"z.w\"]") == (
        "a",
        "output",
        "x-y",
        0,
        "z.w",
    )
    context = {"a": {"output": {"x-y": [{"z.w": 7}]}}}
    assert expressions.resolve("${a.output['x-y'][0][\"z.w\"]}", context) == 7


def test_a_single_reference():
    assert expressions.single_reference("${a.output['x-y']}") == "a.output['x-y']"
    assert expressions.single_reference(" ${a.output.x}") is None
    assert expressions.single_reference("${a}${b}") is None
    assert expressions.single_reference("plain") is None


def test_the_json_a_step_was_read_from():
    sent = {
        "name": "raw",
        "tasks": [
            step("fan", type="FORK_JOIN", forkTasks=[[], [step("b", extra=1)]]),
            step("route", type="SWITCH", decisionCases={"x": [step("c", extra=2)]}),
        ],
    }
    definition = WorkflowDef.model_validate(sent)
    found = {
        p.step.taskReferenceName: walk.raw_step(sent["tasks"], p)
        for p in walk.walk(definition.tasks)
    }
    assert found["b"] is sent["tasks"][0]["forkTasks"][1][0]
    assert found["c"] is sent["tasks"][1]["decisionCases"]["x"][0]
    assert found["fan"] is sent["tasks"][0]
    assert walk.raw_step("not a list", next(walk.walk(definition.tasks))) is None
