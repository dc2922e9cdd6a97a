"""System steps: SUB_WORKFLOW, WAIT, TERMINATE, SET_VARIABLE, and the failure workflow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.events import (
    CancelTimer,
    Dequeue,
    Enqueue,
    NotifyParent,
    StartChild,
    StartTimer,
    TerminateChild,
    TerminateRun,
)
from podium.engine.state import derive_id
from tests.unit.engine_helpers import Run, simple, step, task_def, workflow

# ---- SUB_WORKFLOW -------------------------------------------------------------------------


def _parent(sub_params: dict[str, Any] | None = None, **sub_extra: Any) -> dict[str, Any]:
    return workflow(
        [
            step("prep"),
            step(
                "sub",
                type="SUB_WORKFLOW",
                subWorkflowParam=sub_params or {"name": "child", "version": 2},
                inputParameters={"x": "${prep.output.x}", "k": "v"},
                **sub_extra,
            ),
            step(
                "after",
                inputParameters={"got": "${sub.output.fromChild}", "child": "${sub.subWorkflowId}"},
            ),
        ],
        name="parent",
    )


def test_sub_workflow_starts_a_child_with_a_derived_id():
    run = Run(_parent(), correlation_id="c-1")
    run.start(now=0)
    prep_id = run.tid("prep")
    commands = run.complete("prep", {"x": 5}, now=100)
    sub = run.latest("sub")
    child_id = derive_id(sub.task_id, "child")
    assert commands == (
        Dequeue(prep_id),
        StartChild(
            child_run_id=child_id,
            name="child",
            version=2,
            input={"x": 5, "k": "v"},
            correlation_id="c-1",
            parent_run_id="r1",
            parent_task_id=sub.task_id,
            depth=1,
        ),
    )
    assert (sub.status, sub.start_at, sub.sub_workflow_id, sub.queue) == (
        TaskStatus.IN_PROGRESS,
        100,
        child_id,
        None,
    )


def test_a_sub_workflow_without_a_version_asks_for_the_latest():
    run = Run(_parent({"name": "child"}))
    run.start(now=0)
    run.complete("prep", now=1)
    [start] = run.of(StartChild)
    assert (start.name, start.version) == ("child", None)


def test_a_completed_child_completes_the_task_with_its_output():
    run = Run(_parent())
    run.start(now=0)
    run.complete("prep", {"x": 1}, now=1)
    child_id = run.latest("sub").sub_workflow_id
    commands = run.child_finished("sub", "COMPLETED", {"fromChild": "hi"}, now=50)
    after = run.latest("after")
    assert commands == (Enqueue(after.task_id, "after", 50, 3600),)
    sub = run.latest("sub")
    assert (sub.status, sub.end_at) == (TaskStatus.COMPLETED, 50)
    assert sub.output == {"fromChild": "hi", "subWorkflowId": child_id}
    assert after.input == {"got": "hi", "child": child_id}


@pytest.mark.parametrize("child_status", ["FAILED", "TIMED_OUT", "TERMINATED"])
def test_a_child_that_did_not_complete_fails_the_task_and_the_run(child_status):
    run = Run(_parent())
    run.start(now=0)
    run.complete("prep", now=1)
    child_id = run.latest("sub").sub_workflow_id
    commands = run.child_finished("sub", child_status, now=60, reason="inner broke")
    assert commands == ()
    sub = run.latest("sub")
    assert sub.status == TaskStatus.FAILED
    assert sub.reason == f"sub-workflow {child_id} {child_status}: inner broke"
    assert sub.output == {"subWorkflowId": child_id}
    assert run.status == RunStatus.FAILED
    assert (
        run.state.reason
        == f"task 'sub' (sub) FAILED: sub-workflow {child_id} {child_status}: inner broke"
    )
    assert run.state.failed_refs == ["sub"]


def test_a_sub_workflow_with_retries_starts_a_new_child():
    run = Run(_parent(taskDefinition=task_def("sub", retryCount=1, retryDelaySeconds=0)))
    run.start(now=0)
    run.complete("prep", now=1)
    first_child = run.latest("sub").sub_workflow_id
    commands = run.child_finished("sub", "FAILED", now=2, reason="x")
    retry = run.latest("sub")
    second_child = derive_id(retry.task_id, "child")
    assert second_child != first_child
    assert [c.child_run_id for c in commands if isinstance(c, StartChild)] == [second_child]
    assert (retry.retry_count, retry.sub_workflow_id) == (1, second_child)
    assert run.status == RunStatus.RUNNING


def test_a_sub_workflow_timeout_terminates_the_child():
    definition = _parent(taskDefinition=task_def("sub", retryCount=0, timeoutSeconds=60))
    run = Run(definition)
    run.start(now=0)
    commands = run.complete("prep", now=1_000)
    sub = run.latest("sub")
    assert commands[-1] == StartTimer(f"task-timeout:{sub.task_id}", 61_000)
    commands = run.fire(f"task-timeout:{sub.task_id}", now=61_000)
    assert commands == (
        TerminateChild(derive_id(sub.task_id, "child"), "task sub timed out after 60s"),
    )
    assert run.status == RunStatus.TIMED_OUT
    # The child's own end, reported afterwards, changes nothing.
    assert run.child_finished("sub", "TERMINATED", now=62_000) == ()
    assert run.status == RunStatus.TIMED_OUT


def test_a_child_result_clears_the_sub_workflow_timeout():
    run = Run(_parent(taskDefinition=task_def("sub", retryCount=0, timeoutSeconds=60)))
    run.start(now=0)
    run.complete("prep", now=1)
    sub_id = run.tid("sub")
    commands = run.child_finished("sub", "COMPLETED", now=2)
    assert commands[0] == CancelTimer(f"task-timeout:{sub_id}")


def test_terminating_a_parent_terminates_its_child():
    run = Run(_parent())
    run.start(now=0)
    run.complete("prep", now=1)
    sub = run.latest("sub")
    commands = run.send(TerminateRun(5, "operator"))
    assert commands == (TerminateChild(derive_id(sub.task_id, "child"), "parent workflow ended"),)
    assert run.latest("sub").status == TaskStatus.CANCELED


@pytest.mark.parametrize(
    ("finish", "status", "reason"),
    [
        ("complete", RunStatus.COMPLETED, None),
        ("fail", RunStatus.FAILED, "task 'inner' (inner) FAILED: nope"),
    ],
)
def test_a_child_run_notifies_its_parent_when_it_ends(finish, status, reason):
    run = Run(
        workflow([simple("inner")], name="child"),
        {"x": 1},
        run_id="child-1",
        parent_run_id="p-1",
        parent_task_id="pt-1",
    )
    run.start(now=0)
    if finish == "complete":
        run.complete("inner", {"fromChild": "hi"}, now=10)
    else:
        run.fail("inner", "nope", now=10)
    notify = run.of(NotifyParent)
    assert notify == [
        NotifyParent(
            parent_run_id="p-1",
            parent_task_id="pt-1",
            child_run_id="child-1",
            child_status=str(status),
            output={"fromChild": "hi"} if finish == "complete" else {},
            reason=reason,
        )
    ]
    assert run.commands[-1] == notify[0]


def test_a_terminated_child_notifies_its_parent():
    run = Run(
        workflow([step("inner")], name="child"), run_id="c", parent_run_id="p", parent_task_id="t"
    )
    run.start(now=0)
    run.send(TerminateRun(3, "parent workflow ended"))
    assert run.of(NotifyParent) == [
        NotifyParent("p", "t", "c", "TERMINATED", {}, "parent workflow ended")
    ]


def test_a_top_level_run_notifies_nobody():
    run = Run(workflow([step("a")]))
    run.start(now=0)
    run.complete("a", now=1)
    assert run.of(NotifyParent) == []


# ---- failure workflow ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("fail", RunStatus.FAILED),
        ("timeout", RunStatus.TIMED_OUT),
        ("terminate", RunStatus.TERMINATED),
    ],
)
def test_the_failure_workflow_starts_when_a_run_fails_or_times_out(how, status):
    definition = workflow(
        [simple("f")],
        name="fragile",
        failureWorkflow="on_fail",
        timeoutSeconds=10,
        timeoutPolicy="TIME_OUT_WF",
    )
    run = Run(definition, {"order": 7}, correlation_id="cf")
    run.start(now=0)
    if how == "fail":
        run.fail("f", "bad", now=500)
    elif how == "timeout":
        run.fire("workflow-timeout", now=500)
    else:
        run.send(TerminateRun(500, "stop"))
    assert run.status == status
    starts = run.of(StartChild)
    if status == RunStatus.TERMINATED:
        assert starts == []
        return
    assert starts == [
        StartChild(
            child_run_id=derive_id("r1", "failure/0/500"),
            name="on_fail",
            version=None,
            input={
                "workflowId": "r1",
                "workflowType": "fragile",
                "reason": run.state.reason,
                "failureStatus": str(status),
                "failedTaskNames": ["f"] if how == "fail" else [],
                "order": 7,
            },
            correlation_id="cf",
            parent_run_id=None,
            parent_task_id=None,
        )
    ]


# ---- WAIT ---------------------------------------------------------------------------------


def _wait(**params: Any) -> dict[str, Any]:
    return workflow(
        [
            step("pause", type="WAIT", inputParameters=params),
            step("after", inputParameters={"by": "${pause.output.by}"}),
        ]
    )


@pytest.mark.parametrize(
    ("duration", "ms"),
    [
        ("30s", 30_000),
        ("2m", 120_000),
        ("1.5s", 1_500),
        ("500ms", 500),
        ("1h 30m", 5_400_000),
        ("45", 45_000),
    ],
)
def test_wait_for_a_duration_starts_a_timer(duration, ms):
    run = Run(_wait(duration=duration))
    commands = run.start(now=1_000)
    pause = run.latest("pause")
    assert commands == (StartTimer(f"wait:{pause.task_id}", 1_000 + ms),)
    assert (pause.status, pause.start_at, pause.queue) == (TaskStatus.IN_PROGRESS, 1_000, None)
    commands = run.fire(f"wait:{pause.task_id}", now=1_000 + ms)
    after = run.latest("after")
    assert commands == (Enqueue(after.task_id, "after", 1_000 + ms, 3600),)
    pause = run.latest("pause")
    assert (pause.status, pause.end_at) == (TaskStatus.COMPLETED, 1_000 + ms)


def test_wait_until_a_point_in_time():
    run = Run(_wait(until="2026-11-23 15:00 UTC"))
    commands = run.start(now=1_000)
    due = int(datetime(2026, 11, 23, 15, 0, tzinfo=UTC).timestamp() * 1000)
    assert commands == (StartTimer(f"wait:{run.tid('pause')}", due),)


def test_wait_duration_may_come_from_an_expression():
    run = Run(_wait(duration="${workflow.input.d}"), {"d": "10s"})
    assert run.start(now=0) == (StartTimer(f"wait:{run.tid('pause')}", 10_000),)


@pytest.mark.parametrize(
    ("params", "words"),
    [({"duration": "soon"}, "cannot read duration"), ({"until": "tomorrow"}, "cannot read time")],
)
def test_an_unreadable_wait_at_run_time_fails_the_run(params, words):
    key = next(iter(params))
    run = Run(_wait(**{key: "${workflow.input.v}"}), {"v": params[key]})
    assert run.start(now=0) == ()
    pause = run.latest("pause")
    assert pause.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert pause.reason is not None and words in pause.reason
    assert run.status == RunStatus.FAILED


def test_a_signal_completes_the_wait_and_cancels_its_timer():
    run = Run(_wait(duration="1h"))
    run.start(now=0)
    pause_id = run.tid("pause")
    commands = run.complete("pause", {"by": "alice"}, now=5_000)
    after = run.latest("after")
    assert commands == (
        CancelTimer(f"wait:{pause_id}"),
        Enqueue(after.task_id, "after", 5_000, 3600),
    )
    assert run.latest("pause").output == {"by": "alice"}
    assert after.input == {"by": "alice"}
    # The timer firing after the signal (a lost race) changes nothing.
    assert run.fire(f"wait:{pause_id}", now=3_600_000) == ()
    assert run.refs() == ["pause", "after"]


def test_a_wait_without_duration_waits_for_a_signal_only():
    run = Run(_wait())
    assert run.start(now=0) == ()
    assert run.latest("pause").status == TaskStatus.IN_PROGRESS
    assert run.status == RunStatus.RUNNING
    run.complete("pause", {"by": "bob"}, now=10)
    assert run.latest("after").input == {"by": "bob"}


def test_a_failed_signal_fails_the_run():
    run = Run(_wait())
    run.start(now=0)
    run.fail("pause", "rejected", now=1)
    assert run.status == RunStatus.FAILED
    assert run.state.reason == "task 'pause' (pause) FAILED: rejected"


# ---- TERMINATE ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "output", "reason"),
    [
        (
            {"terminationStatus": "COMPLETED", "workflowOutput": {"code": 1}},
            RunStatus.COMPLETED,
            {"code": 1},
            None,
        ),
        (
            {
                "terminationStatus": "FAILED",
                "terminationReason": "no stock",
                "workflowOutput": {"code": 7},
            },
            RunStatus.FAILED,
            {"code": 7},
            "no stock",
        ),
        (
            {"terminationStatus": "TERMINATED", "terminationReason": "stop"},
            RunStatus.TERMINATED,
            {},
            "stop",
        ),
        ({}, RunStatus.COMPLETED, {}, None),
        ({"terminationStatus": "${workflow.input.s}"}, RunStatus.FAILED, {}, None),
        ({"workflowOutput": {"from": "${a.output.v}"}}, RunStatus.COMPLETED, {"from": 3}, None),
    ],
)
def test_terminate_ends_the_run_with_its_status_and_output(params, status, output, reason):
    definition = workflow(
        [step("a"), step("end", type="TERMINATE", inputParameters=params), step("never")]
    )
    run = Run(definition, {"s": "failed"})
    run.start(now=0)
    a_id = run.tid("a")
    commands = run.complete("a", {"v": 3}, now=10)
    assert commands == (Dequeue(a_id),)
    assert run.status == status
    assert run.state.output == output
    assert run.state.reason == reason
    assert run.state.end_at == 10
    end = run.latest("end")
    assert (end.status, end.start_at, end.end_at) == (TaskStatus.COMPLETED, 10, 10)
    assert end.output == ({"output": output} if "workflowOutput" in params else {})
    assert run.refs() == ["a", "end"]
    assert run.state.failed_refs == []


def test_terminate_without_workflow_output_uses_the_output_parameters():
    definition = workflow(
        [
            step("a"),
            step("end", type="TERMINATE", inputParameters={"terminationStatus": "COMPLETED"}),
        ],
        outputParameters={"v": "${a.output.v}"},
    )
    run = Run(definition)
    run.start(now=0)
    run.complete("a", {"v": 9}, now=1)
    assert run.state.output == {"v": 9}


def test_terminate_in_one_branch_cancels_the_other():
    definition = workflow(
        [
            step(
                "fork",
                type="FORK_JOIN",
                forkTasks=[
                    [step("slow")],
                    [
                        step("gate"),
                        step(
                            "end", type="TERMINATE", inputParameters={"terminationStatus": "FAILED"}
                        ),
                    ],
                ],
            ),
            step("join", type="JOIN", joinOn=["slow", "end"]),
            step("never"),
        ]
    )
    run = Run(definition)
    run.start(now=0)
    slow_id, gate_id = run.tid("slow"), run.tid("gate")
    commands = run.complete("gate", now=5)
    assert commands == (Dequeue(gate_id), Dequeue(slow_id))
    assert run.status == RunStatus.FAILED
    assert run.statuses()["slow"] == TaskStatus.CANCELED
    assert run.statuses()["join"] == TaskStatus.CANCELED
    assert "never" not in run.refs()


# ---- SET_VARIABLE -------------------------------------------------------------------------


def test_set_variable_then_read_it_back():
    definition = workflow(
        [
            step("v1", type="SET_VARIABLE", inputParameters={"x": "${workflow.input.x}", "y": 2}),
            step(
                "use",
                inputParameters={"x": "${workflow.variables.x}", "y": "${workflow.variables.y}"},
            ),
            step("v2", type="SET_VARIABLE", inputParameters={"x": "${use.output.x}"}),
        ],
        variables={"y": 0, "z": "kept"},
        outputParameters={"vars": "${workflow.variables}"},
    )
    run = Run(definition, {"x": "first"})
    commands = run.start(now=0)
    use = run.latest("use")
    assert commands == (Enqueue(use.task_id, "use", 0, 3600),)
    assert run.latest("v1").status == TaskStatus.COMPLETED
    assert run.latest("v1").output == {}
    assert run.state.variables == {"x": "first", "y": 2, "z": "kept"}
    assert use.input == {"x": "first", "y": 2}
    run.complete("use", {"x": "second"}, now=1)
    assert run.status == RunStatus.COMPLETED
    assert run.state.variables == {"x": "second", "y": 2, "z": "kept"}
    assert run.state.output == {"vars": {"x": "second", "y": 2, "z": "kept"}}
