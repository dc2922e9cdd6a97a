"""FORK_JOIN_DYNAMIC (both of Conductor's input forms) and DYNAMIC."""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.decider import HTTP_QUEUE
from podium.engine.events import Enqueue, RetryRun, StartChild
from tests.unit.engine_helpers import Run, simple, step, task_def, workflow

NO_RETRY = task_def("work", retryCount=0, retryDelaySeconds=0)


def _listed_fork(**extra: Any) -> dict[str, Any]:
    return workflow(
        [
            step(
                "fork",
                type="FORK_JOIN_DYNAMIC",
                dynamicForkTasksParam="dynamicTasks",
                dynamicForkTasksInputParamName="dynamicTasksInput",
                inputParameters={
                    "dynamicTasks": "${workflow.input.tasks}",
                    "dynamicTasksInput": "${workflow.input.inputs}",
                },
                **extra,
            ),
            step("join", type="JOIN"),
            simple("after") | {"inputParameters": {"joined": "${join.output}"}},
        ]
    )


def _branch(ref: str, **extra: Any) -> dict[str, Any]:
    return {"name": "work", "taskReferenceName": ref, "taskDefinition": NO_RETRY, **extra}


def test_a_listed_fork_runs_each_task_with_its_input_and_the_join_waits_for_all():
    tasks = [_branch("a"), _branch("b", inputParameters={"own": "${workflow.input.tag}"})]
    inputs = {"a": {"n": 1}, "b": {"n": 2}}
    run = Run(_listed_fork(), {"tasks": tasks, "inputs": inputs, "tag": "t"})
    commands = run.start(now=5)
    assert run.refs() == ["fork", "a", "b", "join"]
    fork = run.latest("fork")
    assert fork.status == TaskStatus.COMPLETED
    assert fork.input["forkedTasks"] == ["a", "b"]
    a, b = run.latest("a"), run.latest("b")
    assert (a.input, b.input) == ({"n": 1}, {"own": "t", "n": 2})
    assert commands == (Enqueue(a.task_id, "work", 5, 3600), Enqueue(b.task_id, "work", 5, 3600))
    join = run.latest("join")
    assert (join.status, join.input) == (TaskStatus.IN_PROGRESS, {"joinOn": ["a", "b"]})

    run.complete("b", {"from": "b"}, now=6)
    assert run.latest("join").status == TaskStatus.IN_PROGRESS
    run.complete("a", {"from": "a"}, now=7)
    assert run.latest("join").output == {"a": {"from": "a"}, "b": {"from": "b"}}
    assert run.latest("after").input == {"joined": {"a": {"from": "a"}, "b": {"from": "b"}}}


def test_the_simple_form_names_branches_after_the_fork_task_name():
    definition = workflow(
        [
            step(
                "fan",
                type="FORK_JOIN_DYNAMIC",
                inputParameters={
                    "forkTaskName": "work",
                    "forkTaskInputs": [{"x": 1}, {"x": 2}, 3],
                },
            ),
            step("join", type="JOIN"),
        ]
    )
    run = Run(definition)
    run.start(now=0)
    assert run.refs() == ["fan", "_work_0", "_work_1", "_work_2", "join"]
    assert [run.latest(f"_work_{i}").input for i in range(3)] == [
        {"x": 1, "__index": 0},
        {"x": 2, "__index": 1},
        {"input": 3, "__index": 2},
    ]
    assert {c.queue for c in run.of(Enqueue)} == {"work"}
    for i in range(3):
        run.complete(f"_work_{i}", {"i": i}, now=1 + i)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"_work_0": {"i": 0}, "_work_1": {"i": 1}, "_work_2": {"i": 2}}


def test_the_simple_form_with_a_workflow_starts_sub_workflows():
    definition = workflow(
        [
            step(
                "fan",
                type="FORK_JOIN_DYNAMIC",
                inputParameters={
                    "forkTaskName": "child",
                    "forkTaskWorkflow": "child_flow",
                    "forkTaskWorkflowVersion": "2",
                    "forkTaskInputs": [{"x": 1}, {"x": 2}],
                },
            ),
            step("join", type="JOIN"),
        ]
    )
    run = Run(definition)
    run.start(now=0)
    children = run.of(StartChild)
    assert [(c.name, c.version, c.input) for c in children] == [
        ("child_flow", 2, {"x": 1, "__index": 0}),
        ("child_flow", 2, {"x": 2, "__index": 1}),
    ]
    run.child_finished("_child_0", "COMPLETED", {"r": 0}, now=1)
    run.child_finished("_child_1", "COMPLETED", {"r": 1}, now=2)
    assert run.status == RunStatus.COMPLETED
    assert run.latest("join").output["_child_1"]["r"] == 1


def test_an_empty_fork_goes_straight_through_its_join():
    run = Run(_listed_fork(), {"tasks": [], "inputs": {}})
    run.start(now=0)
    assert run.refs() == ["fork", "join", "after"]
    assert run.latest("after").input == {"joined": {}}


def test_a_failed_branch_is_retried_with_the_same_input_then_fails_the_run():
    retried = _branch("a", taskDefinition=task_def("work", retryCount=1, retryDelaySeconds=0))
    run = Run(_listed_fork(), {"tasks": [retried, _branch("b")], "inputs": {"a": {"n": 1}}})
    run.start(now=0)
    run.fail("a", now=1)
    assert [t.input for t in run.attempts("a")] == [{"n": 1}, {"n": 1}]
    assert run.latest("a").dynamic_step is not None
    run.fail("a", now=2)
    assert run.status == RunStatus.FAILED
    assert run.latest("b").status == TaskStatus.CANCELED


@pytest.mark.parametrize(
    ("tasks", "inputs", "words"),
    [
        ("nope", {}, "should be a list of tasks"),
        ([_branch("a")], "nope", "should map each forked task's reference name"),
        ([{"name": "work"}], {}, "has no taskReferenceName"),
        ([_branch("a"), _branch("a")], {}, "'a' is already used"),
        ([_branch("fork")], {}, "'fork' is already used"),
        ([_branch("a", type="DO_WHILE")], {}, "has type DO_WHILE"),
    ],
)
def test_bad_fork_inputs_fail_the_fork_with_the_reason(tasks, inputs, words):
    run = Run(_listed_fork(), {"tasks": tasks, "inputs": inputs})
    run.start(now=0)
    fork = run.latest("fork")
    assert fork.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert fork.reason is not None and words in fork.reason
    assert run.status == RunStatus.FAILED


def test_a_dynamic_fork_inside_a_loop_suffixes_its_branches_per_iteration():
    loop = step(
        "loop",
        type="DO_WHILE",
        loopCondition="$.loop.iteration < 2",
        loopOver=[
            step(
                "fan",
                type="FORK_JOIN_DYNAMIC",
                inputParameters={"forkTaskName": "work", "forkTaskInputs": [1, 2]},
            ),
            step("join", type="JOIN"),
        ],
    )
    run = Run(workflow([loop]))
    run.start(now=0)
    assert run.active() == ["loop", "_work_0__1", "_work_1__1", "join__1"]
    run.complete("_work_0__1", now=1)
    run.complete("_work_1__1", now=2)
    assert run.active() == ["loop", "_work_0__2", "_work_1__2", "join__2"]
    run.complete("_work_0__2", now=3)
    run.complete("_work_1__2", {"last": True}, now=4)
    assert run.status == RunStatus.COMPLETED
    assert run.latest("join__2").output == {"_work_0__2": {}, "_work_1__2": {"last": True}}


def _dynamic(**params: Any) -> dict[str, Any]:
    return workflow(
        [
            step(
                "pick",
                type="DYNAMIC",
                dynamicTaskNameParam="taskToExecute",
                inputParameters={"taskToExecute": "${workflow.input.task}", **params},
                taskDefinition=task_def("pick", retryCount=1, retryDelaySeconds=0),
            )
        ]
    )


def test_dynamic_queues_the_task_its_input_names():
    run = Run(_dynamic(amount="${workflow.input.amount}"), {"task": "charge_card", "amount": 5})
    commands = run.start(now=0)
    pick = run.latest("pick")
    assert commands == (Enqueue(pick.task_id, "charge_card", 0, 3600),)
    assert (pick.name, pick.type, pick.ref) == ("charge_card", "SIMPLE", "pick")
    assert pick.input == {"taskToExecute": "charge_card", "amount": 5}
    run.fail("pick", now=1)
    assert run.latest("pick").name == "charge_card"
    assert run.latest("pick").retry_count == 1
    run.complete("pick", {"charged": True}, now=2)
    assert run.status == RunStatus.COMPLETED
    assert run.state.output == {"charged": True}


def test_dynamic_without_a_task_name_fails_with_the_reason():
    run = Run(_dynamic(), {})
    run.start(now=0)
    pick = run.latest("pick")
    assert pick.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert pick.reason == (
        "DYNAMIC task 'pick': input 'taskToExecute' should name the task to run, but it is None"
    )


def test_retrying_the_run_retries_the_failed_branch_and_keeps_the_join_waiting_on_all():
    run = Run(_listed_fork(), {"tasks": [_branch("a"), _branch("b")], "inputs": {}})
    run.start(now=0)
    run.complete("b", {"from": "b"}, now=1)
    run.fail("a", now=2)
    assert run.status == RunStatus.FAILED
    run.send(RetryRun(3))
    assert run.active() == ["a", "join"]
    assert run.latest("join").input == {"joinOn": ["a", "b"]}
    run.complete("a", {"from": "a"}, now=4)
    assert run.latest("join").output == {"a": {"from": "a"}, "b": {"from": "b"}}
    assert run.active() == ["after"]


def _simple_fork(inputs: dict[str, Any]) -> dict[str, Any]:
    return workflow(
        [step("fork", type="FORK_JOIN_DYNAMIC", inputParameters=inputs), step("join", type="JOIN")]
    )


def test_a_system_fork_task_type_names_and_types_the_branches():
    run = Run(_simple_fork({"forkTaskType": "HTTP", "forkTaskInputs": [{"uri": "http://a/"}]}))
    commands = run.start(now=5)
    branch = run.latest("_HTTP_0")
    assert (branch.type, branch.input) == ("HTTP", {"uri": "http://a/", "__index": 0})
    assert [c.queue for c in commands if isinstance(c, Enqueue)] == [HTTP_QUEUE]


def test_a_simple_branch_named_for_a_system_type_runs_as_that_type():
    tasks = [
        {"name": "HTTP", "taskReferenceName": "call"},
        {"name": "SET_VARIABLE", "taskReferenceName": "keep", "type": "SIMPLE"},
    ]
    inputs = {"call": {"uri": "http://a/"}, "keep": {"x": 1}}
    run = Run(_listed_fork(), {"tasks": tasks, "inputs": inputs})
    commands = run.start(now=5)
    assert run.latest("call").type == "HTTP"
    assert [c.queue for c in commands if isinstance(c, Enqueue)] == [HTTP_QUEUE]
    assert run.latest("keep").status == TaskStatus.COMPLETED
    assert run.state.variables == {"x": 1}


def test_a_named_simple_fork_task_keeps_its_worker_queue():
    run = Run(_simple_fork({"forkTaskName": "work", "forkTaskInputs": [{}]}))
    commands = run.start(now=5)
    assert run.latest("_work_0").type == "SIMPLE"
    assert [c.queue for c in commands if isinstance(c, Enqueue)] == ["work"]
