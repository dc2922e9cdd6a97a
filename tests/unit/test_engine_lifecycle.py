"""Run-level operations: pause, resume, terminate, retry, restart; bad results; purity."""

from __future__ import annotations

import copy

import pytest

from podium.engine import RunState, RunStatus, TaskStatus, decide
from podium.engine.events import (
    CancelTimer,
    Decision,
    Dequeue,
    Enqueue,
    PauseRun,
    RestartRun,
    ResumeRun,
    RetryRun,
    RunStarted,
    StartChild,
    StartTimer,
    TaskProgress,
    TaskResult,
    TerminateRun,
    TimerFired,
)
from podium.engine.state import derive_id
from podium.errors import ConflictError, TaskAlreadyFinishedError, TaskNotFoundError
from tests.unit.engine_helpers import Run, blueprint, fresh_state, simple, step, workflow

TWO = workflow(
    [simple("first"), simple("second") | {"inputParameters": {"prev": "${first.output.value}"}}],
    outputParameters={"value": "${second.output.value}"},
)

# ---- pause / resume -----------------------------------------------------------------------


def test_pause_records_results_but_holds_the_next_step_until_resume():
    run = Run(TWO)
    run.start(now=0)
    first = run.tid("first")
    assert run.send(PauseRun(10)) == ()
    assert run.status == RunStatus.PAUSED
    assert run.latest("first").status == TaskStatus.SCHEDULED  # running tasks carry on

    commands = run.complete("first", {"value": 30}, now=20)
    assert commands == (Dequeue(first),)
    assert run.status == RunStatus.PAUSED
    assert run.latest("first").status == TaskStatus.COMPLETED
    assert run.latest("first").output == {"value": 30}
    assert run.refs() == ["first"]

    commands = run.send(ResumeRun(30))
    second = run.latest("second")
    assert commands == (Enqueue(second.task_id, "second", 30, 3600),)
    assert run.status == RunStatus.RUNNING
    assert second.input == {"prev": 30}
    run.complete("second", {"value": 31}, now=40)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"value": 31}


def test_a_paused_run_with_nothing_active_does_not_complete_until_resumed():
    run = Run(workflow([step("only")]))
    run.start(now=0)
    run.send(PauseRun(1))
    run.complete("only", now=2)
    assert run.status == RunStatus.PAUSED
    assert run.state.end_at is None
    run.send(ResumeRun(3))
    assert run.status == RunStatus.COMPLETED
    assert run.state.end_at == 3


def test_a_wait_timer_firing_while_paused_is_recorded_and_the_next_step_held():
    definition = workflow(
        [step("w", type="WAIT", inputParameters={"duration": "1s"}), step("after")]
    )
    run = Run(definition)
    run.start(now=0)
    run.send(PauseRun(1))
    assert run.fire(f"wait:{run.tid('w')}", now=1_000) == ()
    assert run.statuses() == {"w": TaskStatus.COMPLETED}
    run.send(ResumeRun(2_000))
    assert run.enqueued_refs() == ["after"]


def test_a_retry_is_not_scheduled_while_paused_but_on_resume():
    definition = workflow([simple("a", retries=1, retryDelaySeconds=5), step("b")])
    run = Run(definition)
    run.start(now=0)
    a_id = run.tid("a")
    run.send(PauseRun(1))
    commands = run.fail("a", "flaky", now=10)
    assert commands == (Dequeue(a_id),)
    assert run.status == RunStatus.PAUSED
    assert [t.status for t in run.attempts("a")] == [TaskStatus.FAILED]

    commands = run.send(ResumeRun(100))
    retry = run.latest("a")
    assert commands == (Enqueue(retry.task_id, "a", 5_100, 3600),)
    assert (retry.retry_count, retry.retried_task_id) == (1, a_id)
    assert run.attempts("a")[0].retried is True
    run.complete("a", now=6_000)
    run.complete("b", now=7_000)
    assert run.status == RunStatus.COMPLETED


def test_a_failure_without_retries_while_paused_ends_the_run():
    run = Run(TWO)
    run.start(now=0)
    run.send(PauseRun(1))
    run.fail("first", "down", now=2)
    assert run.status == RunStatus.FAILED
    assert run.state.reason == "task 'first' (first) FAILED: down"


@pytest.mark.parametrize(
    ("setup", "event", "code"),
    [
        pytest.param([PauseRun(1)], PauseRun(2), "E_RUN_STATUS", id="pause-paused"),
        pytest.param([], ResumeRun(2), "E_RUN_STATUS", id="resume-running"),
        pytest.param([TerminateRun(1)], PauseRun(2), "E_RUN_STATUS", id="pause-ended"),
        pytest.param([TerminateRun(1)], ResumeRun(2), "E_RUN_STATUS", id="resume-ended"),
        pytest.param([TerminateRun(1)], TerminateRun(2), "E_RUN_ENDED", id="terminate-ended"),
        pytest.param([], RetryRun(2), "E_RUN_STATUS", id="retry-running"),
        pytest.param([PauseRun(1)], RetryRun(2), "E_RUN_STATUS", id="retry-paused"),
        pytest.param([], RestartRun(2), "E_RUN_STATUS", id="restart-running"),
        pytest.param([PauseRun(1)], RestartRun(2), "E_RUN_STATUS", id="restart-paused"),
    ],
)
def test_operations_that_do_not_fit_the_run_status_are_conflicts(setup, event, code):
    run = Run(TWO)
    run.start(now=0)
    for before in setup:
        run.send(before)
    state_before = copy.deepcopy(run.state.to_dict())
    with pytest.raises(ConflictError) as caught:
        decide(run.state, event, run.blueprint)
    assert caught.value.code == code
    assert caught.value.status_code == 409
    assert run.state.to_dict() == state_before


def test_the_completed_run_cannot_be_terminated_paused_or_retried():
    run = Run(workflow([step("a")]))
    run.start(now=0)
    run.complete("a", now=1)
    for event in (TerminateRun(2), PauseRun(2), ResumeRun(2), RetryRun(2)):
        with pytest.raises(ConflictError):
            decide(run.state, event, run.blueprint)


# ---- terminate ----------------------------------------------------------------------------


def test_terminate_cancels_active_tasks_and_their_timers():
    definition = workflow(
        [
            step(
                "fork",
                type="FORK_JOIN",
                forkTasks=[
                    [simple("a", timeoutSeconds=100)],
                    [step("w", type="WAIT", inputParameters={"duration": "1h"})],
                ],
            ),
            step("join", type="JOIN", joinOn=["a", "w"]),
        ],
        timeoutSeconds=600,
        timeoutPolicy="TIME_OUT_WF",
    )
    run = Run(definition)
    run.start(now=0)
    a_id, w_id = run.tid("a"), run.tid("w")
    commands = run.send(TerminateRun(50, "operator says stop"))
    assert commands == (
        Dequeue(a_id),
        CancelTimer(f"task-timeout:{a_id}"),
        CancelTimer(f"wait:{w_id}"),
        CancelTimer("workflow-timeout"),
    )
    assert run.status == RunStatus.TERMINATED
    assert run.state.reason == "operator says stop"
    assert run.state.end_at == 50
    assert run.statuses() == {
        "fork": TaskStatus.COMPLETED,
        "a": TaskStatus.CANCELED,
        "w": TaskStatus.CANCELED,
        "join": TaskStatus.CANCELED,
    }
    assert all(t.end_at == 50 for t in run.state.tasks if t.ref != "fork")
    assert run.state.output == {}


def test_terminate_without_a_reason_and_while_paused():
    run = Run(TWO)
    run.start(now=0)
    run.send(PauseRun(1))
    run.send(TerminateRun(2))
    assert (run.status, run.state.reason) == (RunStatus.TERMINATED, "terminated")


@pytest.mark.parametrize("late", ["result", "progress"])
def test_results_for_tasks_of_a_terminated_run_are_rejected(late):
    run = Run(TWO)
    run.start(now=0)
    first = run.tid("first")
    run.send(TerminateRun(1))
    event = (
        TaskResult(2, first, TaskStatus.COMPLETED) if late == "result" else TaskProgress(2, first)
    )
    with pytest.raises(TaskAlreadyFinishedError) as caught:
        decide(run.state, event, run.blueprint)
    assert "CANCELED" in caught.value.message
    assert caught.value.code == "E_TASK_FINISHED"


# ---- results for the wrong task -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["result", "progress"])
def test_a_result_for_an_unknown_task_is_not_found(kind):
    run = Run(TWO)
    run.start(now=0)
    event = (
        TaskResult(1, "ghost", TaskStatus.COMPLETED)
        if kind == "result"
        else TaskProgress(1, "ghost")
    )
    before = copy.deepcopy(run.state.to_dict())
    with pytest.raises(TaskNotFoundError) as caught:
        decide(run.state, event, run.blueprint)
    assert "ghost" in caught.value.message
    assert caught.value.status_code == 404
    assert run.state.to_dict() == before


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.FAILED])
def test_a_second_result_for_a_finished_task_is_rejected(status):
    run = Run(workflow([simple("a", retries=1), step("b")]))
    run.start(now=0)
    a_id = run.tid("a")
    run.result("a", status, now=1)
    with pytest.raises(TaskAlreadyFinishedError) as caught:
        decide(run.state, TaskResult(2, a_id, TaskStatus.COMPLETED), run.blueprint)
    assert a_id in caught.value.message
    assert f"already ended as {status}" in caught.value.message


# ---- retry a run --------------------------------------------------------------------------


def test_retry_of_a_failed_run_reschedules_the_failed_step_and_completes():
    run = Run(TWO, {"n": 1})
    run.start(now=0)
    run.complete("first", {"value": 30}, now=1)
    failed_id = run.tid("second")
    run.fail("second", "payment service down", now=2)
    assert run.status == RunStatus.FAILED

    commands = run.send(RetryRun(100))
    again = run.latest("second")
    assert commands == (Enqueue(again.task_id, "second", 100, 3600),)
    assert run.status == RunStatus.RUNNING
    assert (run.state.reason, run.state.end_at, run.state.failed_refs) == (None, None, [])
    assert (again.retry_count, again.retried_task_id, again.input) == (1, failed_id, {"prev": 30})
    assert run.attempts("second")[0].retried is True
    assert run.latest("first").status == TaskStatus.COMPLETED  # kept, not re-run

    run.complete("second", {"value": 31}, now=200)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"value": 31}
    assert run.refs() == ["first", "second", "second"]


def test_retry_ignores_the_retry_delay():
    run = Run(workflow([simple("a", retryDelaySeconds=60)]))
    run.start(now=0)
    run.fail("a", now=1)
    run.send(RetryRun(10))
    assert run.latest("a").available_at == 10


def test_retry_of_a_failed_fork_reschedules_the_failed_and_canceled_steps():
    definition = workflow(
        [
            step("fork", type="FORK_JOIN", forkTasks=[[simple("left")], [simple("right")]]),
            step("join", type="JOIN", joinOn=["left", "right"]),
            simple("after"),
        ]
    )
    run = Run(definition)
    run.start(now=0)
    run.fail("right", now=1)
    assert run.statuses()["left"] == TaskStatus.CANCELED
    run.send(RetryRun(5))
    assert run.status == RunStatus.RUNNING
    assert sorted(run.enqueued_refs()) == ["left", "right"]
    assert run.latest("join").status == TaskStatus.IN_PROGRESS
    run.complete("left", {"l": 1}, now=6)
    run.complete("right", {"r": 1}, now=7)
    assert run.latest("join").output == {"left": {"l": 1}, "right": {"r": 1}}
    run.complete("after", now=8)
    assert run.status == RunStatus.COMPLETED


@pytest.mark.parametrize("how", ["terminate", "timeout"])
def test_retry_of_a_terminated_or_timed_out_run_reschedules_canceled_steps(how):
    definition = workflow(
        [simple("a"), simple("b")], timeoutSeconds=10, timeoutPolicy="TIME_OUT_WF"
    )
    run = Run(definition)
    run.start(now=0)
    run.complete("a", now=1)
    if how == "terminate":
        run.send(TerminateRun(2))
    else:
        run.fire("workflow-timeout", now=10_000)
    assert run.latest("b").status == TaskStatus.CANCELED
    run.send(RetryRun(20_000))
    assert run.enqueued_refs() == ["b"]
    assert run.refs() == ["a", "b", "b"]
    run.complete("b", now=20_001)
    assert run.status == RunStatus.COMPLETED


def test_retry_after_terminating_a_paused_run_carries_on_from_the_held_step_only():
    definition = workflow([simple("x"), simple("a"), simple("b")])
    run = Run(definition)
    run.start(now=0)
    run.complete("x", now=1)
    run.send(PauseRun(2))
    run.complete("a", now=3)  # its successor is held by the pause
    run.send(TerminateRun(4))
    assert run.status == RunStatus.TERMINATED
    assert run.active() == []

    run.send(RetryRun(5))
    assert run.status == RunStatus.RUNNING
    assert run.enqueued_refs() == ["b"]
    assert run.refs() == ["x", "a", "b"]  # x and a are not run again
    run.complete("b", now=6)
    assert run.status == RunStatus.COMPLETED


# ---- restart ------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["complete", "fail", "terminate"])
def test_restart_starts_over_with_new_task_ids(end):
    definition = workflow(
        [simple("first"), simple("second")],
        variables={"v": 0},
        timeoutSeconds=60,
        timeoutPolicy="TIME_OUT_WF",
    )
    run = Run(definition, {"n": 3})
    run.start(now=0)
    run.complete("first", {"value": 1}, now=1)
    if end == "complete":
        run.complete("second", now=2)
    elif end == "fail":
        run.fail("second", now=2)
    else:
        run.send(TerminateRun(2))
    old_ids = {t.task_id for t in run.state.tasks}
    assert run.state.next_seq == 3

    commands = run.send(RestartRun(1_000))
    first = run.latest("first")
    assert first.task_id not in old_ids
    assert first.task_id == derive_id("r1", "1/3")
    assert commands == (
        StartTimer("workflow-timeout", 61_000),
        Enqueue(first.task_id, "first", 1_000, 3600),
    )
    assert run.refs() == ["first"]
    assert run.status == RunStatus.RUNNING
    assert run.state.restarts == 1
    assert (run.state.start_at, run.state.end_at, run.state.reason) == (1_000, None, None)
    assert (run.state.output, run.state.failed_refs, run.state.variables) == ({}, [], {"v": 0})
    assert run.state.input == {"n": 3}
    assert first.retry_count == 0

    run.complete("first", now=1_001)
    run.complete("second", {"again": True}, now=1_002)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"again": True}


def test_restart_twice_gives_fresh_ids_each_time():
    run = Run(workflow([step("a")]))
    seen: set[str] = set()
    run.start(now=0)
    for i in range(3):
        seen.add(run.tid("a"))
        run.complete("a", now=10 * i + 1)
        run.send(RestartRun(10 * i + 2))
    assert len(seen) == 3
    assert run.state.restarts == 3


# ---- purity -------------------------------------------------------------------------------


def _scenario(run_id: str = "r1") -> list[Decision]:
    """A run through most features; returns every decision."""
    definition = workflow(
        [
            step("v", type="SET_VARIABLE", inputParameters={"x": "${workflow.input.x}"}),
            step(
                "fork",
                type="FORK_JOIN",
                forkTasks=[
                    [
                        simple(
                            "left", retries=1, retryLogic="EXPONENTIAL_BACKOFF", retryDelaySeconds=3
                        )
                    ],
                    [
                        step(
                            "s",
                            type="SWITCH",
                            evaluatorType="javascript",
                            expression="$.x > 1 ? 'sub' : 'no'",
                            inputParameters={"x": "${workflow.variables.x}"},
                            decisionCases={
                                "sub": [
                                    step(
                                        "child", type="SUB_WORKFLOW", subWorkflowParam={"name": "c"}
                                    )
                                ]
                            },
                        )
                    ],
                ],
            ),
            step("join", type="JOIN", joinOn=["left", "child"]),
            step("w", type="WAIT", inputParameters={"duration": "5s"}),
            simple("last", timeoutSeconds=30) | {"inputParameters": {"j": "${join.output}"}},
        ],
        timeoutSeconds=3600,
        timeoutPolicy="TIME_OUT_WF",
        outputParameters={"j": "${join.output}", "x": "${workflow.variables.x}"},
    )
    run = Run(definition, {"x": 2}, run_id=run_id, correlation_id="c")
    run.start(now=0)
    run.fail("left", now=10)
    run.send(PauseRun(11))
    run.send(ResumeRun(12))
    run.complete("left", {"l": [1, {"deep": True}]}, now=20)
    run.child_finished("child", "COMPLETED", {"c": 1}, now=30)
    run.fire(f"wait:{run.tid('w')}", now=5_030)
    run.complete("last", {"done": True}, now=5_040)
    assert run.status == RunStatus.COMPLETED
    return run.history


def test_the_same_events_give_the_same_decisions():
    first, second = _scenario(), _scenario()
    assert first == second
    assert len(first) == 8
    assert any(isinstance(c, StartChild) for d in first for c in d.commands)


def test_decisions_depend_on_the_run_id_only_through_derived_ids():
    one, two = _scenario("run-a"), _scenario("run-b")
    ids_one = {t.task_id for t in one[-1].state.tasks}
    ids_two = {t.task_id for t in two[-1].state.tasks}
    assert ids_one.isdisjoint(ids_two)
    assert [t.ref for t in one[-1].state.tasks] == [t.ref for t in two[-1].state.tasks]
    for history in (one, two):
        final = history[-1].state
        child = final.latest("child")
        assert child is not None and child.sub_workflow_id == derive_id(child.task_id, "child")
        assert final.output == {
            "j": {
                "left": {"l": [1, {"deep": True}]},
                "child": {"c": 1, "subWorkflowId": child.sub_workflow_id},
            },
            "x": 2,
        }


def test_decide_never_changes_the_state_it_is_given():
    # The harness compares to_dict before and after every call; here by hand, with a stored
    # state round-tripped through to_dict/from_dict as the store would.
    bp = blueprint(
        workflow(
            [
                step("v", type="SET_VARIABLE", inputParameters={"a": "${workflow.input.a}"}),
                simple("t", retries=1),
            ]
        )
    )
    state = fresh_state(input={"a": {"nested": [1]}})
    snapshot = copy.deepcopy(state.to_dict())
    started = decide(state, RunStarted(0), bp).state
    assert state.to_dict() == snapshot
    stored = RunState.from_dict(copy.deepcopy(started.to_dict()))
    stored_snapshot = copy.deepcopy(stored.to_dict())
    task_id = stored.tasks[-1].task_id
    for event in (
        TaskProgress(1, task_id, {"p": 1}, logs=({"log": "x"},)),
        TaskResult(2, task_id, TaskStatus.FAILED, {"o": 1}, "r", logs=({"log": "y"},)),
        TimerFired(3, "workflow-timeout"),
        PauseRun(4),
        TerminateRun(5),
    ):
        decide(stored, event, bp)
        assert stored.to_dict() == stored_snapshot, event
    assert decide(stored, RunStarted(0), bp) == decide(stored, RunStarted(0), bp)


def test_a_task_timeout_while_paused_retries_on_resume():
    definition = workflow([simple("a", retries=1, timeoutSeconds=30, timeoutPolicy="RETRY")])
    run = Run(definition)
    run.start(now=0)
    a_id = run.tid("a")
    run.send(PauseRun(1))
    assert run.fire(f"task-timeout:{a_id}", now=30_000) == (Dequeue(a_id),)
    assert [t.status for t in run.attempts("a")] == [TaskStatus.TIMED_OUT]
    assert run.status == RunStatus.PAUSED
    commands = run.send(ResumeRun(40_000))
    retry = run.latest("a")
    assert commands == (
        Enqueue(retry.task_id, "a", 40_000, 3600),
        StartTimer(f"task-timeout:{retry.task_id}", 70_000),
    )


@pytest.mark.parametrize("how", ["fail", "timeout"])
def test_retry_of_a_run_restarts_its_workflow_timeout(how):
    # As in Conductor, where the workflow timeout counts from the last retry.
    definition = workflow([simple("a")], timeoutSeconds=60, timeoutPolicy="TIME_OUT_WF")
    run = Run(definition)
    run.start(now=0)
    if how == "fail":
        run.fail("a", now=10_000)
    else:
        run.fire("workflow-timeout", now=60_000)
    assert CancelTimer("workflow-timeout") in run.commands
    commands = run.send(RetryRun(100_000))
    again = run.latest("a")
    assert commands == (
        StartTimer("workflow-timeout", 160_000),
        Enqueue(again.task_id, "a", 100_000, 3600),
    )
    run.fire("workflow-timeout", now=160_000)
    assert run.status == RunStatus.TIMED_OUT
