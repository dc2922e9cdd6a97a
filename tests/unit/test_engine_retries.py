"""Failures, retries, optional steps and timeouts (task and workflow)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.events import CancelTimer, Dequeue, Enqueue, StartTimer
from tests.unit.engine_helpers import Run, simple, step, task_def, workflow


def _retrying(
    logic: str, delay_s: int, scale: int, retries: int = 3, **extra: Any
) -> dict[str, Any]:
    definition = task_def(
        "work",
        retryCount=retries,
        retryLogic=logic,
        retryDelaySeconds=delay_s,
        backoffScaleFactor=scale,
        **extra,
    )
    return workflow([step("a", name="work", taskDefinition=definition), step("b")])


@pytest.mark.parametrize(
    ("logic", "delay_s", "scale", "delays"),
    [
        pytest.param("FIXED", 10, 3, [10, 10, 10], id="fixed-ignores-scale"),
        pytest.param("LINEAR_BACKOFF", 10, 1, [10, 20, 30], id="linear"),
        pytest.param("LINEAR_BACKOFF", 10, 2, [20, 40, 60], id="linear-scaled"),
        pytest.param("EXPONENTIAL_BACKOFF", 10, 1, [10, 20, 40], id="exponential"),
        pytest.param("EXPONENTIAL_BACKOFF", 5, 2, [10, 20, 40], id="exponential-scaled"),
        pytest.param("FIXED", 0, 1, [0, 0, 0], id="no-delay"),
    ],
)
def test_each_retry_is_held_back_by_its_delay(logic, delay_s, scale, delays):
    run = Run(_retrying(logic, delay_s, scale))
    run.start(now=0)
    now = 0
    for attempt, delay in enumerate(delays, start=1):
        now += 100_000
        failed_id = run.tid("a")
        commands = run.fail("a", f"down #{attempt}", now=now)
        retry = run.latest("a")
        assert commands == (
            Dequeue(failed_id),
            Enqueue(retry.task_id, "work", now + delay * 1000, 3600),
        )
        assert retry.task_id != failed_id
        assert (retry.status, retry.retry_count) == (TaskStatus.SCHEDULED, attempt)
        assert retry.available_at == now + delay * 1000
        assert retry.scheduled_at == now
        assert retry.retried_task_id == failed_id
        previous = run.state.task(failed_id)
        assert previous is not None
        assert (previous.status, previous.retried, previous.reason) == (
            TaskStatus.FAILED,
            True,
            f"down #{attempt}",
        )
        assert run.status == RunStatus.RUNNING
    assert [t.retry_count for t in run.attempts("a")] == [0, 1, 2, 3]
    assert [t.retried for t in run.attempts("a")] == [True, True, True, False]


def test_retries_keep_the_resolved_input_and_a_later_success_carries_on():
    definition = workflow(
        [
            simple("a", retries=2) | {"inputParameters": {"n": "${workflow.input.n}"}},
            step("b", inputParameters={"fromA": "${a.output.v}", "tries": "${a.retryCount}"}),
        ]
    )
    run = Run(definition, {"n": 4})
    run.start(now=0)
    run.fail("a", now=10)
    run.fail("a", now=20)
    assert [t.input for t in run.attempts("a")] == [{"n": 4}] * 3
    run.complete("a", {"v": "ok"}, now=30)
    assert run.statuses() == {"a": TaskStatus.COMPLETED, "b": TaskStatus.SCHEDULED}
    assert run.latest("b").input == {"fromA": "ok", "tries": 2}
    run.complete("b", now=40)
    assert run.status == RunStatus.COMPLETED
    assert [t.status for t in run.state.tasks] == [
        TaskStatus.FAILED,
        TaskStatus.FAILED,
        TaskStatus.COMPLETED,
        TaskStatus.COMPLETED,
    ]


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_exhausted_retries_fail_the_run_naming_the_task(retries):
    run = Run(_retrying("FIXED", 0, 1, retries=retries))
    run.start(now=0)
    for i in range(retries):
        run.fail("a", now=i + 1)
        assert run.status == RunStatus.RUNNING
    last_id = run.tid("a")
    commands = run.fail("a", "inventory service down", now=1_000)
    assert commands == (Dequeue(last_id),)
    assert run.status == RunStatus.FAILED
    assert run.state.end_at == 1_000
    assert run.state.reason == "task 'a' (work) FAILED: inventory service down"
    assert run.state.failed_refs == ["a"]
    assert len(run.attempts("a")) == retries + 1
    assert run.latest("a").status == TaskStatus.FAILED
    assert run.latest("a").retried is False
    assert "b" not in run.refs()
    assert run.state.output == {}


def test_a_failure_without_a_reason_says_so():
    run = Run(workflow([simple("a")]))
    run.start(now=0)
    run.result("a", TaskStatus.FAILED, now=1)
    assert run.state.reason == "task 'a' (a) FAILED: no reason given"


def test_default_task_def_retries_three_times_after_sixty_seconds():
    run = Run(workflow([step("a")]))
    run.start(now=0)
    for attempt in range(1, 4):
        run.fail("a", now=attempt * 1_000)
        assert run.latest("a").available_at == attempt * 1_000 + 60_000
    run.fail("a", now=999_000)
    assert run.status == RunStatus.FAILED


def test_terminal_errors_are_never_retried():
    run = Run(_retrying("FIXED", 0, 1, retries=5))
    run.start(now=0)
    a_id = run.tid("a")
    commands = run.fail("a", "bad card", now=10, status=TaskStatus.FAILED_WITH_TERMINAL_ERROR)
    assert commands == (Dequeue(a_id),)
    assert run.status == RunStatus.FAILED
    assert len(run.attempts("a")) == 1
    assert run.latest("a").status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert run.state.reason == "task 'a' (work) FAILED_WITH_TERMINAL_ERROR: bad card"


@pytest.mark.parametrize(
    "status", [TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR, TaskStatus.TIMED_OUT]
)
def test_an_optional_step_completes_with_errors_and_the_run_goes_on(status):
    definition = workflow(
        [
            simple("maybe") | {"optional": True},
            step("then", inputParameters={"why": "${maybe.reasonForIncompletion}"}),
        ],
        outputParameters={"maybe": "${maybe.status}"},
    )
    run = Run(definition)
    run.start(now=0)
    maybe_id = run.tid("maybe")
    commands = run.fail("maybe", "recommendations down", now=5, status=status)
    then = run.latest("then")
    assert commands == (Dequeue(maybe_id), Enqueue(then.task_id, "then", 5, 3600))
    assert run.latest("maybe").status == TaskStatus.COMPLETED_WITH_ERRORS
    assert run.latest("maybe").reason == "recommendations down"
    assert then.input == {"why": "recommendations down"}
    assert run.status == RunStatus.RUNNING
    run.complete("then", now=6)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"maybe": "COMPLETED_WITH_ERRORS"}
    assert run.state.failed_refs == []


def test_an_optional_step_uses_its_retries_first():
    run = Run(workflow([simple("maybe", retries=1) | {"optional": True}, step("then")]))
    run.start(now=0)
    run.fail("maybe", now=1)
    assert [t.status for t in run.attempts("maybe")] == [TaskStatus.FAILED, TaskStatus.SCHEDULED]
    assert "then" not in run.refs()
    run.fail("maybe", now=2)
    assert [t.status for t in run.attempts("maybe")] == [
        TaskStatus.FAILED,
        TaskStatus.COMPLETED_WITH_ERRORS,
    ]
    assert run.latest("then").status == TaskStatus.SCHEDULED


def test_the_last_step_optional_and_failed_completes_the_run():
    run = Run(workflow([step("a"), simple("maybe") | {"optional": True}]))
    run.start(now=0)
    run.complete("a", {"x": 1}, now=1)
    run.fail("maybe", now=2)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {}  # the optional step's (empty) output is the last one


# ---- task timeouts ------------------------------------------------------------------------


def _timing_out(policy: str, retries: int = 1) -> dict[str, Any]:
    definition = task_def(
        "slow", retryCount=retries, retryDelaySeconds=2, timeoutSeconds=30, timeoutPolicy=policy
    )
    return workflow([step("a", name="slow", taskDefinition=definition), step("b")])


def test_a_task_timeout_timer_starts_with_the_task():
    run = Run(_timing_out("RETRY"))
    commands = run.start(now=1_000)
    a_id = run.tid("a")
    assert commands == (
        Enqueue(a_id, "slow", 1_000, 3600),
        StartTimer(f"task-timeout:{a_id}", 31_000),
    )


def test_timeout_policy_retry_times_the_task_out_and_retries_it():
    run = Run(_timing_out("RETRY", retries=1))
    run.start(now=0)
    first = run.tid("a")
    commands = run.fire(f"task-timeout:{first}", now=30_000)
    second = run.latest("a")
    assert commands == (
        Dequeue(first),
        Enqueue(second.task_id, "slow", 32_000, 3600),
        StartTimer(f"task-timeout:{second.task_id}", 62_000),
    )
    timed_out = run.state.task(first)
    assert timed_out is not None
    assert timed_out.status == TaskStatus.TIMED_OUT
    assert timed_out.reason == "task a timed out after 30s"
    assert timed_out.end_at == 30_000
    assert second.retry_count == 1
    assert run.status == RunStatus.RUNNING

    # Out of retries: the run times out, as Conductor's retry() ends it.
    commands = run.fire(f"task-timeout:{second.task_id}", now=62_000)
    assert commands == (Dequeue(second.task_id),)
    assert run.status == RunStatus.TIMED_OUT
    assert run.state.reason == "task 'a' (slow) TIMED_OUT: task a timed out after 30s"
    assert [t.status for t in run.attempts("a")] == [TaskStatus.TIMED_OUT, TaskStatus.TIMED_OUT]


def test_timeout_policy_time_out_wf_times_the_run_out():
    run = Run(_timing_out("TIME_OUT_WF", retries=3))
    run.start(now=0)
    a_id = run.tid("a")
    commands = run.fire(f"task-timeout:{a_id}", now=30_000)
    assert commands == (Dequeue(a_id),)
    assert run.status == RunStatus.TIMED_OUT
    assert run.state.reason == "task a timed out after 30s"
    assert run.state.failed_refs == ["a"]
    assert run.state.end_at == 30_000
    assert len(run.attempts("a")) == 1  # retries do not apply
    assert run.latest("a").status == TaskStatus.TIMED_OUT


def test_timeout_policy_alert_only_logs_and_keeps_waiting():
    run = Run(_timing_out("ALERT_ONLY"))
    run.start(now=0)
    a_id = run.tid("a")
    commands = run.fire(f"task-timeout:{a_id}", now=30_000)
    assert commands == ()
    a = run.latest("a")
    assert a.status == TaskStatus.SCHEDULED
    assert a.logs == [{"log": "task a timed out after 30s", "taskId": a_id, "createdTime": 30_000}]
    assert run.status == RunStatus.RUNNING
    commands = run.complete("a", now=40_000)
    assert commands[:2] == (CancelTimer(f"task-timeout:{a_id}"), Dequeue(a_id))
    assert run.latest("b").status == TaskStatus.SCHEDULED


def test_a_result_cancels_the_timeout_timer_and_a_late_timer_changes_nothing():
    run = Run(_timing_out("TIME_OUT_WF"))
    run.start(now=0)
    a_id = run.tid("a")
    commands = run.complete("a", now=10_000)
    assert commands[:2] == (CancelTimer(f"task-timeout:{a_id}"), Dequeue(a_id))
    before = run.state.to_dict()
    commands = run.fire(f"task-timeout:{a_id}", now=30_000)
    assert commands == ()
    after = run.state.to_dict()
    assert after.pop("updated_at") == 30_000
    before.pop("updated_at")
    assert after == before


def test_a_timer_for_an_unknown_task_is_ignored():
    run = Run(_timing_out("TIME_OUT_WF"))
    run.start(now=0)
    assert run.fire("task-timeout:nope", now=5) == ()
    assert run.fire("wait:nope", now=6) == ()
    assert run.status == RunStatus.RUNNING


# ---- workflow timeouts --------------------------------------------------------------------


def test_workflow_timeout_time_out_wf_cancels_everything():
    definition = workflow(
        [simple("a", timeoutSeconds=600)], timeoutSeconds=60, timeoutPolicy="TIME_OUT_WF"
    )
    run = Run(definition)
    commands = run.start(now=1_000)
    a_id = run.tid("a")
    assert commands == (
        StartTimer("workflow-timeout", 61_000),
        Enqueue(a_id, "a", 1_000, 3600),
        StartTimer(f"task-timeout:{a_id}", 601_000),
    )
    commands = run.fire("workflow-timeout", now=61_000)
    assert commands == (
        Dequeue(a_id),
        CancelTimer(f"task-timeout:{a_id}"),
        CancelTimer("workflow-timeout"),
    )
    assert run.status == RunStatus.TIMED_OUT
    assert run.state.reason == "workflow timed out after 60s"
    assert run.state.end_at == 61_000
    assert run.latest("a").status == TaskStatus.CANCELED
    assert run.state.failed_refs == []


def test_workflow_timeout_alert_only_changes_nothing():
    definition = workflow([step("a")], timeoutSeconds=60, timeoutPolicy="ALERT_ONLY")
    run = Run(definition)
    run.start(now=0)
    assert run.fire("workflow-timeout", now=60_000) == ()
    assert run.status == RunStatus.RUNNING
    assert run.latest("a").status == TaskStatus.SCHEDULED


def test_a_run_that_ends_cancels_its_workflow_timer():
    definition = workflow([step("a")], timeoutSeconds=60, timeoutPolicy="TIME_OUT_WF")
    run = Run(definition)
    run.start(now=0)
    a_id = run.tid("a")
    assert run.complete("a", now=10) == (Dequeue(a_id), CancelTimer("workflow-timeout"))
    assert run.status == RunStatus.COMPLETED
    # The timer firing anyway (it lost the race) leaves the ended run alone.
    assert run.fire("workflow-timeout", now=60_000) == ()
    assert run.status == RunStatus.COMPLETED


def test_no_workflow_timer_without_a_workflow_timeout():
    run = Run(workflow([step("a")]))
    run.start(now=0)
    run.complete("a", now=1)
    assert not any(
        isinstance(c, (StartTimer, CancelTimer)) for d in run.history for c in d.commands
    )
