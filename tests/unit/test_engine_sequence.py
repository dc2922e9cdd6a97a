"""The engine on straight-line workflows: scheduling, inputs, outputs and task bookkeeping."""

from __future__ import annotations

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.decider import DEFAULT_TASK_DEF, HTTP_QUEUE
from podium.engine.events import (
    Dequeue,
    Enqueue,
    StartTimer,
    TaskProgress,
    TaskResult,
)
from podium.engine.state import derive_id
from podium.errors import PodiumError
from tests.unit.engine_helpers import Run, simple, step, workflow

THREE_STEPS = workflow(
    [
        step("a", inputParameters={"n": "${workflow.input.n}", "fixed": 1}),
        step(
            "b",
            inputParameters={
                "prev": "${a.output.value}",
                "greeting": "hi ${workflow.input.name}, n=${workflow.input.n}",
                "whole": "${a.output}",
                "missing": "${a.output.nope.deeper}",
                "first": "${workflow.input.items[0].sku}",
            },
        ),
        step("c", inputParameters={"sum": "${b.output.value}", "aStatus": "${a.status}"}),
    ],
    outputParameters={"total": "${c.output.value}", "fromA": "${a.output.value}", "k": "const"},
)
INPUT = {"n": 3, "name": "ada", "items": [{"sku": "X-1"}]}


def test_first_step_is_enqueued_on_start():
    run = Run(THREE_STEPS, INPUT)
    commands = run.start(now=1_000)
    a = run.latest("a")
    assert commands == (Enqueue(a.task_id, "a", 1_000, DEFAULT_TASK_DEF.responseTimeoutSeconds),)
    assert run.status == RunStatus.RUNNING
    assert run.state.start_at == 1_000
    assert run.state.updated_at == 1_000
    assert run.refs() == ["a"]
    assert a.status == TaskStatus.SCHEDULED
    assert a.input == {"n": 3, "fixed": 1}
    assert (a.seq, a.scheduled_at, a.available_at, a.retry_count) == (1, 1_000, 1_000, 0)
    assert a.queue == "a"
    assert a.task_id == derive_id("r1", "0/1")
    assert run.state.next_seq == 2


def test_steps_run_one_after_another_with_resolved_inputs():
    run = Run(THREE_STEPS, INPUT)
    run.start(now=1_000)
    a_id = run.tid("a")

    commands = run.complete("a", {"value": 30}, now=2_000)
    b = run.latest("b")
    assert commands == (Dequeue(a_id), Enqueue(b.task_id, "b", 2_000, 3600))
    assert run.latest("a").status == TaskStatus.COMPLETED
    assert run.latest("a").output == {"value": 30}
    assert (run.latest("a").start_at, run.latest("a").end_at) == (2_000, 2_000)
    assert b.input == {
        "prev": 30,
        "greeting": "hi ada, n=3",
        "whole": {"value": 30},
        "missing": None,
        "first": "X-1",
    }
    assert run.status == RunStatus.RUNNING

    commands = run.complete("b", {"value": 31}, now=3_000)
    c = run.latest("c")
    assert commands == (Dequeue(b.task_id), Enqueue(c.task_id, "c", 3_000, 3600))
    assert c.input == {"sum": 31, "aStatus": "COMPLETED"}

    commands = run.complete("c", {"value": 32, "extra": True}, now=4_000)
    assert commands == (Dequeue(c.task_id),)
    assert run.status == RunStatus.COMPLETED
    assert run.state.end_at == 4_000
    assert run.state.reason is None
    assert run.state.output == {"total": 32, "fromA": 30, "k": "const"}
    assert run.refs() == ["a", "b", "c"]
    assert all(t.status == TaskStatus.COMPLETED for t in run.state.tasks)
    assert [t.seq for t in run.state.tasks] == [1, 2, 3]
    assert len({t.task_id for t in run.state.tasks}) == 3


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        pytest.param([{"x": 1}, {"y": 2}], {"y": 2}, id="last-task-output"),
        pytest.param([{"x": 1}, {}], {}, id="last-task-empty-output"),
    ],
)
def test_without_output_parameters_the_run_output_is_the_last_task_output(outputs, expected):
    run = Run(workflow([step("a"), step("b")]))
    run.start(now=0)
    run.complete("a", outputs[0], now=1)
    run.complete("b", outputs[1], now=2)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == expected


def test_output_parameters_may_read_variables_and_whole_outputs():
    definition = workflow(
        [step("a"), step("v", type="SET_VARIABLE", inputParameters={"seen": "${a.output.v}"})],
        outputParameters={
            "var": "${workflow.variables.seen}",
            "a": "${a.output}",
            "id": "${workflow.workflowId}",
        },
    )
    run = Run(definition)
    run.start(now=0)
    run.complete("a", {"v": [1, 2]}, now=5)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"var": [1, 2], "a": {"v": [1, 2]}, "id": "r1"}


def test_workflow_context_fields_are_available_to_inputs():
    definition = workflow(
        [
            step(
                "a",
                inputParameters={
                    "id": "${workflow.workflowId}",
                    "corr": "${workflow.correlationId}",
                    "type": "${workflow.workflowType}",
                    "version": "${workflow.version}",
                    "created": "${workflow.createTime}",
                    "parent": "${workflow.parentWorkflowId}",
                    "var": "${workflow.variables.region}",
                },
            ),
            step("b", inputParameters={"aId": "${a.taskId}", "aRetries": "${a.retryCount}"}),
        ],
        variables={"region": "eu"},
    )
    run = Run(definition, correlation_id="corr-9")
    run.start(now=7)
    assert run.state.variables == {"region": "eu"}
    assert run.latest("a").input == {
        "id": "r1",
        "corr": "corr-9",
        "type": "wf",
        "version": 1,
        "created": 0,
        "parent": None,
        "var": "eu",
    }
    run.complete("a", now=8)
    assert run.latest("b").input == {"aId": run.tid("a"), "aRetries": 0}


def test_task_definition_sets_response_timeout_and_timeout_timer():
    definition = workflow([simple("a", responseTimeoutSeconds=90, timeoutSeconds=120)])
    run = Run(definition)
    commands = run.start(now=1_000)
    a_id = run.tid("a")
    assert commands == (
        Enqueue(a_id, "a", 1_000, 90),
        StartTimer(f"task-timeout:{a_id}", 121_000),
    )


def test_start_delay_holds_the_task_back_and_shifts_its_timeout():
    definition = workflow([step("a"), simple("b", timeoutSeconds=10) | {"startDelay": 5}])
    run = Run(definition)
    run.start(now=0)
    commands = run.complete("a", now=2_000)
    b = run.latest("b")
    assert b.available_at == 7_000
    assert b.scheduled_at == 2_000
    assert commands[1:] == (
        Enqueue(b.task_id, "b", 7_000, 3600),
        StartTimer(f"task-timeout:{b.task_id}", 17_000),
    )


def test_task_name_is_the_queue_and_refs_may_share_it():
    definition = workflow([step("first", name="work"), step("second", name="work")])
    run = Run(definition)
    run.start(now=0)
    assert [(c.queue, c.task_id) for c in run.enqueued()] == [("work", run.tid("first"))]
    run.complete("first", now=1)
    assert [(c.queue, c.task_id) for c in run.enqueued()] == [("work", run.tid("second"))]
    assert run.latest("second").name == "work"


@pytest.mark.parametrize(
    ("http_request", "lease_s"),
    [
        pytest.param({"uri": "http://x", "method": "GET"}, 45, id="defaults-10s+30s+5"),
        pytest.param(
            {"uri": "http://x", "connectionTimeOut": 2_000, "readTimeOut": 3_000}, 10, id="custom"
        ),
        pytest.param({"uri": "http://x", "readTimeOut": "bad"}, 60, id="unreadable"),
    ],
)
def test_http_tasks_go_to_the_http_queue_with_a_lease(http_request, lease_s):
    run = Run(workflow([step("call", type="HTTP", inputParameters={"http_request": http_request})]))
    commands = run.start(now=500)
    call = run.latest("call")
    assert call.queue == HTTP_QUEUE
    assert commands == (Enqueue(call.task_id, HTTP_QUEUE, 500, lease_s),)
    run.complete("call", {"response": {"statusCode": 200}}, now=600)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"response": {"statusCode": 200}}


@pytest.mark.parametrize(
    ("inputs", "step_says", "held"),
    [
        pytest.param({"asyncComplete": True}, False, True, id="input"),
        pytest.param({"asyncComplete": "true"}, False, True, id="input-text"),
        pytest.param({}, True, True, id="step"),
        pytest.param({"asyncComplete": "false"}, True, False, id="input-wins"),
        pytest.param({}, False, False, id="neither"),
    ],
)
def test_an_async_complete_http_call_leaves_the_task_in_progress(inputs, step_says, held):
    call = step("call", type="HTTP", asyncComplete=step_says, inputParameters={"uri": "http://x"})
    call["inputParameters"] |= inputs
    run = Run(workflow([call]))
    run.start(now=500)
    commands = run.complete("call", {"response": {"statusCode": 200}}, now=600)
    assert Dequeue(run.tid("call")) in commands
    if not held:
        assert run.status == RunStatus.COMPLETED
        return
    task = run.latest("call")
    assert (task.status, task.queue, run.status) == (
        TaskStatus.IN_PROGRESS,
        None,
        RunStatus.RUNNING,
    )
    assert task.output == {"response": {"statusCode": 200}}
    run.complete("call", {"done": True}, now=700)  # through the API: no queue row any more
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"done": True}


def test_an_async_complete_http_call_that_fails_fails_as_usual():
    call = step("call", type="HTTP", inputParameters={"uri": "http://x", "asyncComplete": True})
    run = Run(workflow([call]))
    run.start(now=0)
    run.fail("call", now=10)
    assert run.latest("call").status == TaskStatus.FAILED


def test_result_details_are_recorded():
    run = Run(workflow([step("a"), step("b")]))
    run.start(now=0)
    log = {"log": "working", "createdTime": 50}
    run.result(
        "a",
        TaskStatus.COMPLETED,
        {"ok": True},
        now=100,
        worker_id="w-7",
        started_at=40,
        poll_count=3,
        logs=(log,),
    )
    a = run.latest("a")
    assert (a.worker_id, a.start_at, a.end_at, a.poll_count) == ("w-7", 40, 100, 3)
    assert a.logs == [log]
    assert a.output == {"ok": True}


def test_progress_keeps_the_task_with_its_worker():
    run = Run(workflow([step("a")]))
    run.start(now=0)
    a_id = run.tid("a")
    commands = run.send(
        TaskProgress(
            50,
            a_id,
            {"percent": 40},
            worker_id="w1",
            started_at=10,
            poll_count=1,
            callback_after_s=30,
            logs=({"log": "half"},),
        )
    )
    assert commands == ()
    a = run.latest("a")
    assert a.status == TaskStatus.IN_PROGRESS
    assert (a.output, a.worker_id, a.start_at, a.callback_after_s) == (
        {"percent": 40},
        "w1",
        10,
        30,
    )
    assert (a.update_at, a.logs) == (50, [{"log": "half"}])
    # An empty progress report keeps the output so far.
    run.send(TaskProgress(60, a_id))
    assert run.latest("a").output == {"percent": 40}
    run.result("a", TaskStatus.COMPLETED, {"percent": 100}, now=70)
    a = run.latest("a")
    assert (a.status, a.start_at, a.end_at) == (TaskStatus.COMPLETED, 10, 70)
    assert a.logs == [{"log": "half"}]
    assert run.status == RunStatus.COMPLETED


@pytest.mark.parametrize("status", [TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS])
def test_a_result_must_end_the_task(status):
    run = Run(workflow([step("a")]))
    run.start(now=0)
    with pytest.raises(PodiumError, match="must end the task"):
        run.send(TaskResult(1, run.tid("a"), status))


def test_task_ids_are_derived_from_run_id_and_sequence():
    def_ = workflow([step("a"), step("b")])
    one, two = Run(def_, run_id="run-1"), Run(def_, run_id="run-2")
    for run in (one, two):
        run.start(now=0)
        run.complete("a", now=1)
    assert one.tid("a") == derive_id("run-1", "0/1")
    assert one.tid("b") == derive_id("run-1", "0/2")
    assert {one.tid("a"), one.tid("b")}.isdisjoint({two.tid("a"), two.tid("b")})


def test_skipped_status_counts_as_success():
    run = Run(workflow([step("a"), step("b")]))
    run.start(now=0)
    run.result("a", TaskStatus.SKIPPED, now=1)
    assert run.statuses() == {"a": TaskStatus.SKIPPED, "b": TaskStatus.SCHEDULED}
