"""FORK_JOIN / JOIN: parallel branches, waiting on joinOn, join output, failing branches."""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.events import Dequeue, Enqueue
from tests.unit.engine_helpers import Run, simple, step, workflow


def _fan(join_on: list[str], *, right: dict[str, Any] | None = None) -> dict[str, Any]:
    return workflow(
        [
            step(
                "fork",
                type="FORK_JOIN",
                forkTasks=[
                    [simple("left", name="side"), simple("left2", name="side")],
                    [right or simple("right", name="side")],
                ],
            ),
            step("join", type="JOIN", joinOn=join_on),
            simple("after") | {"inputParameters": {"both": "${join.output}"}},
        ]
    )


def test_both_branches_are_scheduled_at_once_and_the_join_waits():
    run = Run(_fan(["left2", "right"]))
    commands = run.start(now=1_000)
    left, right, join = run.latest("left"), run.latest("right"), run.latest("join")
    assert commands == (
        Enqueue(left.task_id, "side", 1_000, 3600),
        Enqueue(right.task_id, "side", 1_000, 3600),
    )
    assert run.refs() == ["fork", "left", "right", "join"]
    assert run.latest("fork").status == TaskStatus.COMPLETED
    assert (join.status, join.start_at, join.queue) == (TaskStatus.IN_PROGRESS, 1_000, None)

    assert run.complete("right", {"from": "right"}, now=2_000) == (Dequeue(right.task_id),)
    assert run.latest("join").status == TaskStatus.IN_PROGRESS

    commands = run.complete("left", {"from": "left"}, now=3_000)
    left2 = run.latest("left2")
    assert commands == (Dequeue(left.task_id), Enqueue(left2.task_id, "side", 3_000, 3600))
    assert run.latest("join").status == TaskStatus.IN_PROGRESS

    commands = run.complete("left2", {"from": "left2"}, now=4_000)
    after = run.latest("after")
    assert commands == (Dequeue(left2.task_id), Enqueue(after.task_id, "after", 4_000, 3600))
    join = run.latest("join")
    assert (join.status, join.end_at) == (TaskStatus.COMPLETED, 4_000)
    assert join.output == {"left2": {"from": "left2"}, "right": {"from": "right"}}
    assert after.input == {"both": {"left2": {"from": "left2"}, "right": {"from": "right"}}}

    run.complete("after", {"done": True}, now=5_000)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"done": True}


@pytest.mark.parametrize(
    "order", [["left", "left2", "right"], ["right", "left", "left2"], ["left", "right", "left2"]]
)
def test_the_join_completes_only_with_the_last_of_its_refs(order):
    run = Run(_fan(["left2", "right"]))
    run.start(now=0)
    for i, ref in enumerate(order):
        assert run.latest("join").status == TaskStatus.IN_PROGRESS
        assert "after" not in run.refs()
        run.complete(ref, {"i": i}, now=i + 1)
    assert run.latest("join").status == TaskStatus.COMPLETED
    assert run.latest("join").end_at == 3
    assert run.active() == ["after"]


def test_a_join_on_some_branches_goes_on_while_others_still_run():
    run = Run(_fan(["right"]))
    run.start(now=0)
    run.complete("right", {"r": 1}, now=1)
    assert run.latest("join").output == {"right": {"r": 1}}
    assert sorted(run.active()) == ["after", "left"]
    run.complete("after", now=2)
    assert run.status == RunStatus.RUNNING  # the left branch is not done
    run.complete("left", now=3)
    run.complete("left2", now=4)
    assert run.status == RunStatus.COMPLETED


def test_a_failing_branch_fails_the_run_and_cancels_the_other_branch():
    run = Run(_fan(["left2", "right"]))
    run.start(now=0)
    left, right, join = run.tid("left"), run.tid("right"), run.tid("join")
    commands = run.fail("right", "warehouse down", now=10)
    assert commands == (Dequeue(right), Dequeue(left))
    assert run.status == RunStatus.FAILED
    assert run.state.reason == "task 'right' (side) FAILED: warehouse down"
    assert run.state.failed_refs == ["right"]
    assert run.statuses() == {
        "fork": TaskStatus.COMPLETED,
        "left": TaskStatus.CANCELED,
        "right": TaskStatus.FAILED,
        "join": TaskStatus.CANCELED,
    }
    for task_id in (left, join):
        task = run.state.task(task_id)
        assert task is not None and task.end_at == 10


def test_a_branch_with_retries_left_retries_while_the_other_runs_on():
    run = Run(_fan(["left2", "right"], right=simple("right", name="side", retries=1)))
    run.start(now=0)
    run.fail("right", now=1)
    assert run.status == RunStatus.RUNNING
    assert [t.status for t in run.attempts("right")] == [TaskStatus.FAILED, TaskStatus.SCHEDULED]
    assert run.latest("left").status == TaskStatus.SCHEDULED
    run.complete("right", {"second": "try"}, now=2)
    run.complete("left", now=3)
    run.complete("left2", {"l": 2}, now=4)
    assert run.latest("join").output == {"left2": {"l": 2}, "right": {"second": "try"}}


def test_an_optional_failing_branch_still_lets_the_join_complete():
    run = Run(_fan(["left2", "right"], right=simple("right", name="side") | {"optional": True}))
    run.start(now=0)
    run.fail("right", now=1)
    assert run.latest("right").status == TaskStatus.COMPLETED_WITH_ERRORS
    run.complete("left", now=2)
    run.complete("left2", {"l": 1}, now=3)
    assert run.latest("join").status == TaskStatus.COMPLETED
    assert run.latest("join").output == {"left2": {"l": 1}, "right": {}}


def test_branches_of_system_steps_join_within_one_decision():
    definition = workflow(
        [
            step(
                "fork",
                type="FORK_JOIN",
                forkTasks=[
                    [step("a", type="SET_VARIABLE", inputParameters={"a": 1})],
                    [step("b", type="SET_VARIABLE", inputParameters={"b": 2})],
                ],
            ),
            step("join", type="JOIN", joinOn=["a", "b"]),
        ],
        outputParameters={"vars": "${workflow.variables}", "joined": "${join.output}"},
    )
    run = Run(definition)
    assert run.start(now=9) == ()
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"vars": {"a": 1, "b": 2}, "joined": {"a": {}, "b": {}}}


def test_a_fork_inside_a_switch_case_returns_to_the_step_after_the_switch():
    definition = workflow(
        [
            step(
                "s",
                type="SWITCH",
                evaluatorType="value-param",
                expression="go",
                inputParameters={"go": "yes"},
                decisionCases={
                    "yes": [
                        step("fork", type="FORK_JOIN", forkTasks=[[step("p")], [step("q")]]),
                        step("join", type="JOIN", joinOn=["p", "q"]),
                        step("tail"),
                    ]
                },
            ),
            step("after"),
        ]
    )
    run = Run(definition)
    run.start(now=0)
    assert sorted(run.active()) == ["join", "p", "q"]
    run.complete("p", now=1)
    run.complete("q", now=2)
    assert run.active() == ["tail"]
    run.complete("tail", now=3)
    assert run.active() == ["after"]
    run.complete("after", now=4)
    assert run.status == RunStatus.COMPLETED


def test_the_join_reads_the_latest_attempt_of_a_retried_branch():
    run = Run(_fan(["left", "right"], right=simple("right", name="side", retries=1)))
    run.start(now=0)
    run.complete("left", {"from": "left"}, now=1)
    run.fail("right", now=2)  # the failed attempt stays in the run, before its retry
    assert run.latest("join").status == TaskStatus.IN_PROGRESS
    run.complete("right", {"from": "retry"}, now=3)
    join = run.latest("join")
    assert (join.status, join.end_at) == (TaskStatus.COMPLETED, 3)
    assert join.output == {"left": {"from": "left"}, "right": {"from": "retry"}}
