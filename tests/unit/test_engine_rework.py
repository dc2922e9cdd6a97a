"""Rerun from a task, skip a step, task logs and variables, in the pure engine."""

from __future__ import annotations

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.events import (
    AddTaskLog,
    Dequeue,
    RerunRun,
    SkipTask,
    StartChild,
    StartTimer,
    TerminateChild,
    UpdateVariables,
)
from podium.errors import ConflictError, TaskNotFoundError, ValidationError
from tests.unit.engine_helpers import Run, simple, step, workflow

THREE = workflow(
    [
        simple("a"),
        simple("b") | {"inputParameters": {"prev": "${a.output.v}"}},
        simple("c") | {"inputParameters": {"prev": "${b.output.v}"}},
    ],
    outputParameters={"c": "${c.output.v}"},
    timeoutSeconds=60,
)


def _done(run: Run) -> Run:
    run.start(now=0)
    for n, ref in enumerate(("a", "b", "c"), start=1):
        run.complete(ref, {"v": n}, now=n)
    assert run.status == RunStatus.COMPLETED
    return run


def test_rerun_drops_the_task_and_what_followed_and_keeps_what_came_before():
    run = _done(Run(THREE))
    a_id, b_id = run.tid("a"), run.tid("b")
    run.send(RerunRun(10, task_id=b_id, task_input={"prev": 7}))
    assert run.status == RunStatus.RUNNING
    assert run.refs() == ["a", "b"]
    assert run.tid("a") == a_id
    assert run.tid("b") != b_id
    assert run.latest("b").input == {"prev": 7}
    assert run.enqueued_refs() == ["b"]
    assert StartTimer("workflow-timeout", 10 + 60_000) in run.commands
    run.complete("b", {"v": 20}, now=11)
    assert run.latest("c").input == {"prev": 20}
    run.complete("c", {"v": 30}, now=12)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"c": 30}


def test_rerun_by_reference_name_and_with_new_workflow_input():
    run = _done(Run(THREE))
    run.send(RerunRun(10, task_id="a", workflow_input={"n": 2}))
    assert run.refs() == ["a"]
    assert run.state.input == {"n": 2}


def test_rerun_without_a_task_restarts_with_the_new_input():
    run = _done(Run(THREE))
    run.send(RerunRun(10, workflow_input={"n": 3}))
    assert run.refs() == ["a"]
    assert run.state.input == {"n": 3}
    assert run.state.restarts == 1


def test_rerun_refuses_an_open_run_and_an_unknown_task():
    run = Run(THREE)
    run.start(now=0)
    with pytest.raises(ConflictError):
        run.send(RerunRun(1, task_id=run.tid("a")))
    _done(run := Run(THREE))
    with pytest.raises(TaskNotFoundError) as missing:
        run.send(RerunRun(10, task_id="nope"))
    assert missing.value.field == "reRunFromTaskId"


FORK = workflow(
    [
        step(
            "fork",
            "FORK_JOIN",
            forkTasks=[[simple("left"), simple("left2")], [simple("right")]],
        ),
        step("join", "JOIN", joinOn=["left2", "right"]),
        simple("after"),
    ]
)


def test_rerun_inside_a_branch_reopens_the_join_and_keeps_the_other_branch():
    run = Run(FORK)
    run.start(now=0)
    run.complete("left", {"v": 1}, now=1)
    run.complete("right", {"v": 2}, now=2)
    run.complete("left2", {"v": 3}, now=3)
    run.complete("after", {"v": 4}, now=4)
    assert run.status == RunStatus.COMPLETED
    right_id = run.tid("right")
    # Scheduled before "left2" (seq order): the JOIN and "right" stay, "left2" and "after" go.
    run.send(RerunRun(10, task_id=run.tid("left2")))
    assert run.tid("right") == right_id
    assert run.statuses()["join"] == TaskStatus.IN_PROGRESS
    assert "after" not in run.refs()
    assert run.enqueued_refs() == ["left2"]
    run.complete("left2", {"v": 5}, now=11)
    assert run.latest("join").output == {"left2": {"v": 5}, "right": {"v": 2}}
    run.complete("after", {"v": 6}, now=12)
    assert run.status == RunStatus.COMPLETED


def test_rerun_of_an_earlier_branch_schedules_the_dropped_parallel_branch_again():
    run = Run(FORK)
    run.start(now=0)
    for n, ref in enumerate(("left", "right", "left2", "after"), start=1):
        run.complete(ref, {"v": n}, now=n)
    run.send(RerunRun(10, task_id=run.tid("left")))
    assert sorted(run.active()) == ["join", "left", "right"]


def test_skip_an_active_task_ends_it_and_goes_on():
    run = Run(THREE)
    run.start(now=0)
    a_id = run.tid("a")
    run.send(SkipTask(1, "a", {"extra": 1}, {"v": 9}))
    skipped = run.state.task(a_id)
    assert skipped is not None
    assert skipped.status == TaskStatus.SKIPPED
    assert skipped.input == {"extra": 1}
    assert Dequeue(a_id) in run.commands
    assert run.latest("b").input == {"prev": 9}


def test_skip_a_later_step_applies_when_it_is_reached():
    run = Run(THREE)
    run.start(now=0)
    run.send(SkipTask(1, "b", {}, {"v": "skipped"}))
    assert run.state.skips == {"b": {"input": {}, "output": {"v": "skipped"}}}
    run.complete("a", {"v": 1}, now=2)
    assert run.statuses()["b"] == TaskStatus.SKIPPED
    assert run.latest("c").input == {"prev": "skipped"}
    assert run.enqueued_refs() == ["c"]
    assert run.state.skips == {}


def test_skip_a_sub_workflow_terminates_its_child():
    definition = workflow([step("child", "SUB_WORKFLOW", subWorkflowParam={"name": "kid"})])
    run = Run(definition)
    run.start(now=0)
    [start] = run.of(StartChild)
    run.send(SkipTask(1, "child"))
    assert TerminateChild(start.child_run_id, "task skipped") in run.commands
    assert run.status == RunStatus.COMPLETED


def test_skip_refusals():
    run = Run(THREE)
    run.start(now=0)
    with pytest.raises(ValidationError) as unknown:
        run.send(SkipTask(1, "zzz"))
    assert unknown.value.field == "taskReferenceName"
    run.complete("a", {"v": 1}, now=1)
    with pytest.raises(ConflictError):
        run.send(SkipTask(2, "a"))
    _done(ended := Run(THREE))
    with pytest.raises(ConflictError):
        ended.send(SkipTask(10, "a"))


def test_task_logs_and_variables():
    run = Run(THREE)
    run.start(now=0)
    run.send(AddTaskLog(5, run.tid("a"), "looked at it"))
    assert run.latest("a").logs == [
        {"log": "looked at it", "taskId": run.tid("a"), "createdTime": 5}
    ]
    with pytest.raises(TaskNotFoundError):
        run.send(AddTaskLog(6, "nope", "x"))
    run.send(UpdateVariables(7, {"k": 1}))
    run.send(UpdateVariables(8, {"j": 2}))
    assert run.state.variables == {"k": 1, "j": 2}
    run.complete("a", now=9)
    run.complete("b", now=10)
    run.complete("c", now=11)
    with pytest.raises(ConflictError):
        run.send(UpdateVariables(12, {"k": 3}))


LOOP = workflow(
    [
        step(
            "loop",
            "DO_WHILE",
            loopCondition="$.loop['iteration'] < 3",
            loopOver=[simple("work"), simple("check")],
        ),
        simple("after"),
    ]
)


def test_rerun_inside_a_loop_goes_on_from_that_iteration():
    run = Run(LOOP)
    run.start(now=0)
    for i in (1, 2, 3):
        run.complete(f"work__{i}", {"i": i}, now=10 * i)
        run.complete(f"check__{i}", {"ok": i}, now=10 * i + 1)
    run.complete("after", now=40)
    assert run.status == RunStatus.COMPLETED
    run.send(RerunRun(50, task_id=run.tid("check__2")))
    loop = run.latest("loop")
    assert (loop.status, loop.iteration) == (TaskStatus.IN_PROGRESS, 2)
    assert "3" not in loop.output
    assert run.refs() == ["loop", "work__1", "check__1", "work__2", "check__2"]
    run.complete("check__2", {"ok": "again"}, now=51)
    assert run.active() == ["loop", "work__3"]
    run.complete("work__3", now=52)
    run.complete("check__3", now=53)
    run.complete("after", now=54)
    assert run.status == RunStatus.COMPLETED
    assert run.latest("loop").output["2"]["check"] == {"ok": "again"}


def test_skip_a_step_inside_a_loop_by_its_definition_name():
    run = Run(LOOP)
    run.start(now=0)
    run.send(SkipTask(1, "check", {}, {"ok": "skipped"}))
    run.complete("work__1", now=2)
    assert run.statuses()["check__1"] == TaskStatus.SKIPPED
    assert run.active() == ["loop", "work__2"]
