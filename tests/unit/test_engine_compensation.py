"""Sagas in the engine: what a failed run undoes, in which order, and how it ends."""

from __future__ import annotations

import pytest

from podium.dsl.models import WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.engine import RunStatus, TaskStatus
from podium.engine.events import (
    CancelTimer,
    Dequeue,
    Enqueue,
    NotifyParent,
    RestartRun,
    RetryRun,
    StartChild,
    TerminateRun,
)
from podium.errors import ConflictError, DefinitionError
from tests.unit.engine_helpers import Run, simple, step, workflow


def undo(name: str, retries: int = 0, **params: str) -> dict[str, object]:
    return {
        "name": name,
        "inputParameters": params,
        "taskDefinition": {
            "name": name,
            "retryCount": retries,
            "retryDelaySeconds": 0,
            "service": "inventory",
        },
    }


def saga(*tasks: dict[str, object], **extra: object) -> dict[str, object]:
    return workflow(list(tasks), **extra)


RESERVE = simple("reserve") | {
    "inputParameters": {"orderId": "${workflow.input.orderId}"},
    "compensation": undo(
        "release",
        retries=1,
        reservation="${reserve.output.reservationId}",
        order="${compensated.input.orderId}",
    ),
}
CHARGE = simple("charge") | {"compensation": undo("refund", paymentId="${charge.output.id}")}
NOTIFY = simple("notify")  # declares no compensation
SHIP = simple("ship")


def _failed_at_ship() -> Run:
    run = Run(saga(RESERVE, NOTIFY, CHARGE, SHIP), {"orderId": "o-1"})
    run.start(now=0)
    run.complete("reserve", {"reservationId": "r-9"}, now=1)
    run.complete("notify", now=2)
    run.complete("charge", {"id": "p-3"}, now=3)
    run.fail("ship", "no courier", now=4)
    return run


def test_a_failure_compensates_completed_steps_newest_first_skipping_those_without():
    run = _failed_at_ship()
    assert run.status == RunStatus.COMPENSATING
    assert run.state.end_at is None
    assert run.active() == ["charge__compensate"]
    refund = run.latest("charge__compensate")
    assert refund.name == "refund" and refund.input == {"paymentId": "p-3"}
    assert run.enqueued() == [Enqueue(refund.task_id, "refund", 4, 3600)]
    assert not run.of(NotifyParent)

    run.complete("charge__compensate", {"refunded": True}, now=5)
    release = run.latest("reserve__compensate")
    assert release.input == {"reservation": "r-9", "order": "o-1"}
    run.complete("reserve__compensate", now=6)

    assert run.status == RunStatus.COMPENSATED
    assert run.state.end_at == 6
    assert run.state.reason == "task 'ship' (ship) FAILED: no courier"
    record = run.state.compensation
    assert record is not None
    assert record["trigger"] == "FAILED"
    assert record["failedReferenceTaskNames"] == ["ship"]
    assert record["notCompensated"] == ["notify"]
    assert [(s["referenceTaskName"], s["status"]) for s in record["steps"]] == [
        ("charge", "COMPLETED"),
        ("reserve", "COMPLETED"),
    ]
    assert record["steps"][0]["output"] == {"refunded": True}
    assert record["steps"][0]["idempotencyKey"] == "r1:compensate:charge"
    assert (record["startTime"], record["endTime"]) == (4, 6)


def test_a_compensation_is_retried_under_its_task_def():
    run = _failed_at_ship()
    run.complete("charge__compensate", now=5)
    run.fail("reserve__compensate", "db busy", now=6)
    assert run.status == RunStatus.COMPENSATING
    [first, second] = run.attempts("reserve__compensate")
    assert second.retry_count == 1 and second.input == first.input
    run.complete("reserve__compensate", now=7)
    assert run.status == RunStatus.COMPENSATED
    assert run.state.compensation is not None
    assert run.state.compensation["steps"][1]["attempts"] == 2


def test_a_compensation_failing_for_good_names_it_and_its_service_and_a_retry_resumes():
    run = _failed_at_ship()
    run.fail("charge__compensate", "gateway down", now=5)
    assert run.status == RunStatus.COMPENSATION_FAILED
    assert run.state.reason == (
        "compensation 'charge__compensate' (refund) of task 'charge' FAILED after 1 attempt(s) "
        "[service inventory]: gateway down"
    )
    assert run.state.failed_refs == ["ship", "charge__compensate"]
    assert run.of(NotifyParent) == []

    run.send(RetryRun(10))
    assert run.status == RunStatus.COMPENSATING
    assert run.state.reason == "task 'ship' (ship) FAILED: no courier"
    assert run.state.failed_refs == ["ship"]
    assert run.active() == ["charge__compensate"]
    run.complete("charge__compensate", now=11)
    run.complete("reserve__compensate", now=12)
    assert run.status == RunStatus.COMPENSATED
    assert [t.ref for t in run.state.tasks if t.ref == "ship"] == ["ship"]  # not run again


def test_an_optional_compensation_that_fails_lets_the_walk_go_on():
    charge = CHARGE | {"compensation": CHARGE["compensation"] | {"optional": True}}
    run = Run(saga(RESERVE, charge, SHIP))
    run.start(now=0)
    run.complete("reserve", now=1)
    run.complete("charge", now=2)
    run.fail("ship", now=3)
    run.fail("charge__compensate", now=4)
    assert run.active() == ["reserve__compensate"]
    run.complete("reserve__compensate", now=5)
    assert run.status == RunStatus.COMPENSATED
    assert run.state.compensation is not None
    assert run.state.compensation["steps"][0]["status"] == "COMPLETED_WITH_ERRORS"


def test_fork_branches_and_loop_iterations_are_compensated_in_reverse_completion_order():
    fork = step(
        "fork",
        "FORK_JOIN",
        forkTasks=[
            [simple("a") | {"compensation": undo("undo_a")}],
            [simple("b") | {"compensation": undo("undo_b")}],
        ],
    )
    loop = step(
        "loop",
        "DO_WHILE",
        loopCondition="$.loop['iteration'] < 2",
        loopOver=[
            simple("item") | {"compensation": undo("undo_item", n="${compensated.output.n}")}
        ],
    )
    definition = saga(fork, step("join", "JOIN", joinOn=["a", "b"]), loop, SHIP)
    run = Run(definition)
    run.start(now=0)
    run.complete("b", now=1)  # b completes before a: a is undone first
    run.complete("a", now=2)
    run.complete("item__1", {"n": 1}, now=3)
    run.complete("item__2", {"n": 2}, now=4)
    run.fail("ship", now=5)
    order = []
    while run.status == RunStatus.COMPENSATING:
        [ref] = run.active()
        order.append((ref, run.latest(ref).input))
        run.complete(ref, now=6 + len(order))
    assert order == [
        ("item__2__compensate", {"n": 2}),
        ("item__1__compensate", {"n": 1}),
        ("a__compensate", {}),
        ("b__compensate", {}),
    ]
    assert run.status == RunStatus.COMPENSATED


def test_active_tasks_are_canceled_when_a_parallel_branch_fails():
    fork = step(
        "fork",
        "FORK_JOIN",
        forkTasks=[[simple("a") | {"compensation": undo("undo_a")}], [simple("b")], [simple("c")]],
    )
    run = Run(saga(fork, step("join", "JOIN", joinOn=["a", "b", "c"])))
    run.start(now=0)
    run.complete("a", now=1)
    commands = run.fail("b", now=2)
    assert run.latest("c").status == TaskStatus.CANCELED
    assert Dequeue(run.tid("c")) in commands
    assert run.active() == ["a__compensate"]


def test_terminate_with_compensate_undoes_and_without_it_does_not():
    run = Run(saga(RESERVE, SHIP))
    run.start(now=0)
    run.complete("reserve", now=1)
    run.send(TerminateRun(2, "customer cancelled", compensate=True))
    assert run.status == RunStatus.COMPENSATING
    assert run.latest("ship").status == TaskStatus.CANCELED
    run.complete("reserve__compensate", now=3)
    assert run.status == RunStatus.COMPENSATED
    assert run.state.compensation is not None
    assert run.state.compensation["trigger"] == "TERMINATED"
    assert run.state.reason == "customer cancelled"

    plain = Run(saga(RESERVE, SHIP))
    plain.start(now=0)
    plain.complete("reserve", now=1)
    plain.send(TerminateRun(2, "stop"))
    assert plain.status == RunStatus.TERMINATED
    assert plain.state.compensation is None


def test_a_compensated_run_cannot_be_retried_but_can_be_restarted():
    run = _failed_at_ship()
    run.complete("charge__compensate", now=5)
    run.complete("reserve__compensate", now=6)
    with pytest.raises(ConflictError):
        run.send(RetryRun(7))
    run.send(RestartRun(8))
    assert run.status == RunStatus.RUNNING
    assert run.state.compensation is None
    assert run.refs() == ["reserve"]


def test_without_compensations_a_failure_ends_the_run_unless_asked_to_compensate():
    plain = Run(saga(simple("x"), simple("y")))
    plain.start(now=0)
    plain.complete("x", now=1)
    plain.fail("y", now=2)
    assert plain.status == RunStatus.FAILED

    asked = Run(saga(simple("x"), simple("y"), compensateOnFailure=True))
    asked.start(now=0)
    asked.complete("x", now=1)
    asked.fail("y", now=2)
    assert asked.status == RunStatus.COMPENSATED
    assert asked.state.compensation is not None
    assert asked.state.compensation["notCompensated"] == ["x"]

    off = Run(saga(RESERVE, SHIP, compensateOnFailure=False))
    off.start(now=0)
    off.complete("reserve", now=1)
    off.fail("ship", now=2)
    assert off.status == RunStatus.FAILED


def test_a_child_run_reports_to_its_parent_only_once_compensated():
    run = Run(saga(RESERVE, SHIP), parent_run_id="p", parent_task_id="pt")
    run.start(now=0)
    run.complete("reserve", now=1)
    run.fail("ship", now=2)
    assert not run.of(NotifyParent)
    run.complete("reserve__compensate", now=3)
    [notify] = run.of(NotifyParent)
    assert notify.child_status == "COMPENSATED"


def test_a_sub_workflow_that_compensated_fails_its_step_and_the_parent_compensates():
    child = step("child", "SUB_WORKFLOW", subWorkflowParam={"name": "inner"})
    run = Run(saga(RESERVE, child))
    run.start(now=0)
    run.complete("reserve", now=1)
    run.child_finished("child", "COMPENSATED", now=2, reason="task 'x' FAILED")
    assert run.status == RunStatus.COMPENSATING
    assert run.active() == ["reserve__compensate"]


def test_a_sub_workflow_compensation_starts_a_child_run():
    definition = saga(
        simple("book")
        | {
            "compensation": {
                "name": "cancel_booking",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "cancel_booking"},
                "inputParameters": {"booking": "${compensated.output.booking}"},
            }
        },
        SHIP,
        timeoutSeconds=60,
    )
    run = Run(definition)
    run.start(now=0)
    run.complete("book", {"booking": "b-1"}, now=1)
    commands = run.fail("ship", now=2)
    assert CancelTimer("workflow-timeout") in commands
    [start] = run.of(StartChild)
    assert (start.name, start.input) == ("cancel_booking", {"booking": "b-1"})
    run.child_finished("book__compensate", "COMPLETED", now=3)
    assert run.status == RunStatus.COMPENSATED


@pytest.mark.parametrize(
    ("compensation", "problem"),
    [
        ({"name": "x", "type": "WAIT"}, "tasks[0].compensation.type (task 'reserve')"),
        (
            {"name": "x", "type": "SUB_WORKFLOW"},
            "tasks[0].compensation.subWorkflowParam (task 'reserve')",
        ),
        (
            {"name": "x", "inputParameters": {"a": "${nope.output.id}"}},
            "tasks[0].compensation.inputParameters (task 'reserve'): '${nope.output.id}'",
        ),
    ],
)
def test_a_bad_compensation_is_refused_naming_the_task_and_field(compensation, problem):
    definition = saga(simple("reserve") | {"compensation": compensation})
    with pytest.raises(DefinitionError) as raised:
        validate_workflow(WorkflowDef.model_validate(definition))
    assert problem in raised.value.message


def test_compensated_is_a_valid_expression_root_in_a_compensation():
    definition = saga(
        simple("reserve")
        | {"compensation": {"name": "x", "inputParameters": {"a": "${compensated.output.id}"}}}
    )
    validate_workflow(WorkflowDef.model_validate(definition))


def test_a_run_terminated_while_compensating_resumes_its_compensation_on_retry():
    run = _failed_at_ship()
    run.send(TerminateRun(5, "operator stop"))
    assert run.status == RunStatus.TERMINATED
    assert run.latest("charge__compensate").status == TaskStatus.CANCELED
    run.send(RetryRun(6))
    assert run.status == RunStatus.COMPENSATING
    assert run.active() == ["charge__compensate"]
    assert run.state.compensation is not None and run.state.compensation["endTime"] == 0
    run.complete("charge__compensate", now=7)
    run.complete("reserve__compensate", now=8)
    assert run.status == RunStatus.COMPENSATED
    assert run.state.compensation["endTime"] == 8
