"""HUMAN waits for someone to finish it through the API; NOOP does nothing and goes on."""

from __future__ import annotations

from podium.engine import RunStatus, TaskStatus
from tests.unit.engine_helpers import Run, simple, step, workflow


def test_human_waits_without_queue_or_timer_until_a_result_arrives():
    run = Run(
        workflow(
            [
                step("approve", type="HUMAN", inputParameters={"amount": 10}),
                simple("after") | {"inputParameters": {"by": "${approve.output.by}"}},
            ]
        )
    )
    commands = run.start(now=0)
    assert commands == ()
    approve = run.latest("approve")
    assert (approve.status, approve.queue, approve.input) == (
        TaskStatus.IN_PROGRESS,
        None,
        {"amount": 10},
    )
    run.complete("approve", {"by": "ada"}, now=5)
    assert run.latest("after").input == {"by": "ada"}


def test_a_rejected_human_task_fails_the_run():
    run = Run(workflow([step("approve", type="HUMAN")]))
    run.start(now=0)
    run.fail("approve", "rejected", now=1)
    assert run.status == RunStatus.FAILED
    assert run.state.reason == "task 'approve' (approve) FAILED: rejected"


def test_noop_completes_at_once():
    run = Run(workflow([step("nothing", type="NOOP"), simple("after")]))
    run.start(now=0)
    assert run.latest("nothing").status == TaskStatus.COMPLETED
    assert run.active() == ["after"]
