"""ROUTING_SLIP in the engine: an itinerary run step by step, amended by outputs, undone on failure."""

from __future__ import annotations

from typing import Any

import pytest

from podium.dsl.models import TaskDef, WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.engine import RunStatus, TaskStatus, decide
from podium.engine.events import RetryRun, RunStarted, TaskResult
from podium.errors import DefinitionError
from tests.unit.engine_helpers import Run, simple, step, workflow

NO_RETRY = {"retryCount": 0, "retryDelaySeconds": 0}


def leg(name: str, undo: str | None = None, **params: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "inputParameters": params,
        "taskDefinition": {"name": name, **NO_RETRY},
    }
    if undo:
        spec["compensation"] = {
            "name": undo,
            "inputParameters": {"of": "${compensated.output.id}"},
            "taskDefinition": {"name": undo, **NO_RETRY},
        }
    return spec


SLIP = workflow(
    [
        step("slip", "ROUTING_SLIP", inputParameters={"itinerary": "${workflow.input.itinerary}"}),
        simple("after", inputParameters={"all": "${slip.output.results}"}),
    ]
)


def test_the_steps_run_one_after_the_other_reading_earlier_outputs():
    itinerary = [leg("book_flight", id="F1"), leg("book_hotel", flight="${book_flight.output.id}")]
    run = Run(SLIP, {"itinerary": itinerary})
    run.start(now=0)
    assert run.active() == ["slip", "book_flight"]
    assert run.latest("book_flight").input == {"id": "F1"}
    run.complete("book_flight", {"id": "FL-7"}, now=1)
    assert run.latest("book_hotel").input == {"flight": "FL-7"}
    run.complete("book_hotel", {"id": "H-2"}, now=2)
    slip = run.latest("slip")
    assert slip.status == TaskStatus.COMPLETED
    assert slip.output["results"] == {"book_flight": {"id": "FL-7"}, "book_hotel": {"id": "H-2"}}
    assert slip.output["position"] == 2
    assert run.active() == ["after"]


def test_a_step_output_replaces_or_extends_the_rest_of_the_itinerary():
    run = Run(SLIP, {"itinerary": [leg("plan"), leg("never")]})
    run.start(now=0)
    run.complete("plan", {"itinerary": [leg("a")], "addSteps": [leg("b")]}, now=1)
    assert run.active() == ["slip", "a"]
    run.complete("a", {"addSteps": [leg("c")]}, now=2)
    run.complete("b", now=3)
    run.complete("c", now=4)
    steps = [s["name"] for s in run.latest("slip").output["steps"]]
    assert steps == ["plan", "a", "b", "c"]
    assert "never" not in run.refs()


def test_a_bad_amendment_fails_the_slip_naming_the_step():
    run = Run(SLIP, {"itinerary": [leg("plan")]})
    run.start(now=0)
    run.complete("plan", {"addSteps": [leg("plan")]}, now=1)
    assert run.status == RunStatus.COMPENSATED  # a slip makes the run a saga; nothing to undo
    assert "step 'plan' amended the itinerary wrongly" in (run.state.reason or "")
    assert "'plan' is already used" in (run.state.reason or "")


@pytest.mark.parametrize(
    ("itinerary", "problem"),
    [
        ("not a list", "must be a list of steps"),
        ([{"nope": 1}], "step 0 must be an object with a 'name'"),
        ([{"name": "x", "type": "DO_WHILE"}], "step 0 ('x') has type DO_WHILE"),
        ([{"name": "x", "compensation": {"name": "y", "type": "WAIT"}}], "compensation.type"),
    ],
)
def test_a_bad_itinerary_fails_the_slip_at_once(itinerary, problem):
    run = Run(SLIP, {"itinerary": itinerary})
    run.start(now=0)
    assert run.status == RunStatus.COMPENSATED
    assert problem in (run.state.reason or "")


def test_a_failed_step_compensates_the_slips_completed_steps_in_reverse():
    itinerary = [leg("flight", "cancel_flight"), leg("hotel", "cancel_hotel"), leg("car")]
    run = Run(SLIP, {"itinerary": itinerary})
    run.start(now=0)
    run.complete("flight", {"id": "F"}, now=1)
    run.complete("hotel", {"id": "H"}, now=2)
    run.fail("car", "no cars", now=3)
    assert run.status == RunStatus.COMPENSATING
    assert run.active() == ["hotel__compensate"]
    assert run.latest("hotel__compensate").input == {"of": "H"}
    run.complete("hotel__compensate", now=4)
    assert run.latest("flight__compensate").input == {"of": "F"}
    run.complete("flight__compensate", now=5)
    assert run.status == RunStatus.COMPENSATED


def test_a_retried_run_picks_the_slip_up_at_the_step_that_failed():
    definition = SLIP | {"compensateOnFailure": False}
    run = Run(definition, {"itinerary": [leg("one"), leg("two"), leg("three")]})
    run.start(now=0)
    run.complete("one", now=1)
    run.fail("two", now=2)
    assert run.status == RunStatus.FAILED
    run.send(RetryRun(3))
    assert sorted(run.active()) == ["slip", "two"]
    run.complete("two", now=4)
    run.complete("three", now=5)
    assert run.latest("slip").status == TaskStatus.COMPLETED
    assert [t.ref for t in run.state.tasks].count("one") == 1


def test_a_slip_inside_a_loop_runs_its_steps_afresh_each_iteration():
    loop = step(
        "loop",
        "DO_WHILE",
        loopCondition="$.loop['iteration'] < 2",
        loopOver=[step("slip", "ROUTING_SLIP", inputParameters={"itinerary": [leg("s")]})],
    )
    run = Run(workflow([loop]))
    run.start(now=0)
    run.complete("s__1", now=1)
    run.complete("s__2", now=2)
    assert run.status == RunStatus.COMPLETED


def test_a_definition_needs_an_itinerary():
    definition = workflow([step("slip", "ROUTING_SLIP")])
    with pytest.raises(DefinitionError) as raised:
        validate_workflow(WorkflowDef.model_validate(definition))
    assert "tasks[0].inputParameters.itinerary (task 'slip')" in raised.value.message


def test_a_step_takes_its_registered_task_defs_when_it_starts():
    leg = {"name": "leg", "compensation": {"name": "undo_leg"}}
    run = Run(SLIP, {"itinerary": [leg]})
    defs = {
        "leg": TaskDef(name="leg", retryCount=1, retryDelaySeconds=5),
        "undo_leg": TaskDef(name="undo_leg", retryCount=4),
    }
    state = decide(run.state, RunStarted(0), run.blueprint, defs).state
    first = state.latest("leg")
    assert first is not None and first.dynamic_step is not None
    spec = first.dynamic_step
    assert spec["taskDefinition"]["retryCount"] == 1
    assert spec["compensation"]["taskDefinition"]["retryCount"] == 4
    failed = TaskResult(1, first.task_id, TaskStatus.FAILED)
    state = decide(state, failed, run.blueprint).state
    retry = state.latest("leg")
    assert retry is not None and retry.retry_count == 1 and retry.available_at == 5001
