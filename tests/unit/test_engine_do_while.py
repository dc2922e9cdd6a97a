"""DO_WHILE: iterations, ref__N names, the loop's output, conditions, keepLastN, nesting."""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from podium.engine.events import Enqueue, RetryRun, StartTimer
from podium.engine.handlers.do_while import ITERATIONS_PER_DECISION, timer_key_loop
from tests.unit.engine_helpers import Run, simple, step, workflow


def _loop(
    body: list[dict[str, Any]],
    condition: str,
    *,
    ref: str = "loop",
    evaluator: str | None = None,
    **params: Any,
) -> dict[str, Any]:
    extra: dict[str, Any] = {"loopCondition": condition, "loopOver": body}
    if evaluator is not None:
        extra["evaluatorType"] = evaluator
    return step(ref, type="DO_WHILE", inputParameters=params, **extra)


COUNT_TO_TIMES = "$.loop['iteration'] < $.times"


def test_each_iteration_schedules_the_body_with_the_iteration_in_its_names():
    run = Run(
        workflow(
            [
                _loop([simple("work", name="work")], COUNT_TO_TIMES, times="${workflow.input.n}"),
                simple("after") | {"inputParameters": {"last": "${work.output.i}"}},
            ]
        ),
        {"n": 3},
    )
    commands = run.start(now=10)
    assert run.refs() == ["loop", "work__1"]
    loop = run.latest("loop")
    assert (loop.status, loop.iteration, loop.output) == (
        TaskStatus.IN_PROGRESS,
        1,
        {"iteration": 1},
    )
    work = run.latest("work__1")
    assert commands == (Enqueue(work.task_id, "work", 10, 3600),)
    assert (work.iteration, work.name) == (1, "work")

    for i in (1, 2, 3):
        run.complete(f"work__{i}", {"i": i}, now=10 + i)
    assert run.refs() == ["loop", "work__1", "work__2", "work__3", "after"]
    loop = run.latest("loop")
    assert loop.status == TaskStatus.COMPLETED
    assert loop.output == {
        "iteration": 3,
        "1": {"work": {"i": 1}},
        "2": {"work": {"i": 2}},
        "3": {"work": {"i": 3}},
    }
    assert [t.iteration for t in run.state.tasks] == [3, 1, 2, 3, 0]
    assert run.latest("after").input == {"last": 3}


def test_the_body_runs_once_even_when_the_condition_is_false_from_the_start():
    run = Run(workflow([_loop([simple("work")], "false")]))
    run.start(now=0)
    run.complete("work__1", {"ok": True}, now=1)
    assert run.status == RunStatus.COMPLETED
    assert run.latest("loop").output == {"iteration": 1, "1": {"work": {"ok": True}}}


def test_tasks_inside_the_loop_read_the_latest_iteration_and_the_loop_output():
    body = [
        step(
            "count",
            type="INLINE",
            inputParameters={
                "evaluatorType": "javascript",
                "expression": "($.previous || 0) + 1",
                "previous": "${count.output.result}",
            },
        ),
        simple("use")
        | {"inputParameters": {"n": "${count.output.result}", "i": "${loop.output.iteration}"}},
    ]
    run = Run(workflow([_loop(body, "$.count.result < 2")]))
    run.start(now=0)
    assert run.latest("use__1").input == {"n": 1, "i": 1}
    run.complete("use__1", now=1)
    assert run.latest("use__2").input == {"n": 2, "i": 2}
    run.complete("use__2", now=2)
    assert run.status == RunStatus.COMPLETED
    assert run.refs() == ["loop", "count__1", "use__1", "count__2", "use__2"]


@pytest.mark.parametrize(
    ("evaluator", "condition"),
    [
        (None, "if ($.loop['iteration'] < $.times) { true; } else { false; }"),
        ("javascript", "$.loop.iteration < $.times"),
        ("graaljs", "(function () { return $.loop.iteration < $.times; })()"),
        ("javascript", "$.work.more"),
        ("value-param", "again"),
    ],
)
def test_the_condition_evaluators(evaluator, condition):
    params = {"times": 2, "again": "${work.output.more}"}
    run = Run(workflow([_loop([simple("work")], condition, evaluator=evaluator, **params)]))
    run.start(now=0)
    run.complete("work__1", {"more": True}, now=1)
    assert run.active() == ["loop", "work__2"]
    run.complete("work__2", {"more": False}, now=2)
    assert run.status == RunStatus.COMPLETED
    assert run.latest("loop").iteration == 2


def test_a_condition_that_fails_fails_the_loop_with_the_reason():
    run = Run(workflow([_loop([simple("work")], "$.missing.deeper > 1")]))
    run.start(now=0)
    run.complete("work__1", now=1)
    loop = run.latest("loop")
    assert loop.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert loop.reason is not None and loop.reason.startswith("loopCondition failed: ")
    assert "deeper" in loop.reason
    assert run.status == RunStatus.FAILED


def test_a_failing_body_task_is_retried_within_the_iteration_then_fails_the_run():
    run = Run(workflow([_loop([simple("work", retries=1)], "true")]))
    run.start(now=0)
    run.fail("work__1", now=1)
    assert [t.ref for t in run.attempts("work__1")] == ["work__1", "work__1"]
    assert run.latest("work__1").retry_count == 1
    run.fail("work__1", now=2)
    assert run.status == RunStatus.FAILED
    assert run.latest("loop").status == TaskStatus.CANCELED
    assert run.state.failed_refs == ["work__1"]


def test_retrying_the_run_resumes_the_loop_at_the_failed_iteration():
    run = Run(workflow([_loop([simple("work")], "$.loop.iteration < 3")]))
    run.start(now=0)
    run.complete("work__1", now=1)
    run.fail("work__2", now=2)
    assert run.status == RunStatus.FAILED
    run.send(RetryRun(3))
    loop = run.latest("loop")
    assert (loop.status, loop.iteration) == (TaskStatus.IN_PROGRESS, 2)
    assert run.active() == ["loop", "work__2"]
    run.complete("work__2", now=4)
    run.complete("work__3", now=5)
    assert run.status == RunStatus.COMPLETED
    assert set(run.latest("loop").output) == {"iteration", "1", "2", "3"}


def test_keep_last_n_drops_older_iterations_tasks_and_outputs():
    run = Run(workflow([_loop([simple("a"), simple("b")], "$.loop.iteration < 5", keepLastN=2)]))
    run.start(now=0)
    for i in range(1, 6):
        run.complete(f"a__{i}", {"i": i}, now=2 * i)
        run.complete(f"b__{i}", now=2 * i + 1)
        if i >= 3:
            assert run.refs()[:3] == ["loop", f"a__{i - 1}", f"b__{i - 1}"]
    assert run.status == RunStatus.COMPLETED
    assert run.refs() == ["loop", "a__4", "b__4", "a__5", "b__5"]
    assert set(run.latest("loop").output) == {"iteration", "4", "5"}
    assert run.state.next_seq == 12  # ids stay unique: dropped tasks keep their sequence numbers


def test_a_nested_loop_runs_fully_in_each_outer_iteration_with_compound_names():
    inner = _loop([simple("leaf")], "$.inner.iteration < 2", ref="inner")
    outer = _loop(
        [inner, simple("tail") | {"inputParameters": {"leaf": "${leaf.output.n}"}}],
        "$.outer.iteration < 2",
        ref="outer",
    )
    run = Run(workflow([outer]))
    run.start(now=0)
    assert run.refs() == ["outer", "inner__1", "leaf__1__1"]
    run.complete("leaf__1__1", {"n": 11}, now=1)
    run.complete("leaf__1__2", {"n": 12}, now=2)
    assert run.latest("inner__1").status == TaskStatus.COMPLETED
    assert run.latest("inner__1").output == {
        "iteration": 2,
        "1": {"leaf": {"n": 11}},
        "2": {"leaf": {"n": 12}},
    }
    assert run.latest("tail__1").input == {"leaf": 12}
    run.complete("tail__1", now=3)
    assert run.active() == ["outer", "inner__2", "leaf__2__1"]
    assert run.latest("leaf__2__1").iteration == 1
    run.complete("leaf__2__1", {"n": 21}, now=4)
    run.complete("leaf__2__2", {"n": 22}, now=5)
    run.complete("tail__2", now=6)
    assert run.status == RunStatus.COMPLETED
    outer_output = run.latest("outer").output
    assert outer_output["iteration"] == 2
    assert outer_output["2"]["leaf"] == {"n": 22}
    assert outer_output["2"]["inner"]["iteration"] == 2


def test_switch_and_fork_inside_the_body_finish_before_the_condition_is_checked():
    body = [
        step(
            "route",
            type="SWITCH",
            evaluatorType="value-param",
            expression="k",
            inputParameters={"k": "${loop.output.iteration}"},
            decisionCases={"1": [simple("first")]},
            defaultCase=[
                step(
                    "fork",
                    type="FORK_JOIN",
                    forkTasks=[[simple("left")], [simple("right")]],
                ),
                step("join", type="JOIN", joinOn=["left", "right"]),
            ],
        ),
    ]
    run = Run(workflow([_loop(body, "$.loop.iteration < 2")]))
    run.start(now=0)
    assert run.active() == ["loop", "first__1"]
    run.complete("first__1", now=1)
    assert run.active() == ["loop", "left__2", "right__2", "join__2"]
    run.complete("left__2", {"x": 1}, now=2)
    assert run.latest("loop").status == TaskStatus.IN_PROGRESS
    run.complete("right__2", {"x": 2}, now=3)
    assert run.latest("join__2").output == {"left__2": {"x": 1}, "right__2": {"x": 2}}
    assert run.status == RunStatus.COMPLETED


def test_a_loop_of_system_tasks_only_runs_to_the_end_in_one_decision():
    body = [step("tick", type="SET_VARIABLE", inputParameters={"n": "${loop.output.iteration}"})]
    run = Run(workflow([_loop(body, "$.loop.iteration < 50")]))
    run.start(now=0)
    assert run.status == RunStatus.COMPLETED
    assert run.state.variables == {"n": 50}
    assert len(run.refs()) == 51


def test_a_long_loop_of_system_tasks_goes_on_from_a_timer_between_chunks():
    body = [step("tick", type="SET_VARIABLE", inputParameters={"n": "${loop.output.iteration}"})]
    run = Run(workflow([_loop(body, "$.loop.iteration < 250")]))
    commands = run.start(now=7)
    loop = run.latest("loop")
    key = timer_key_loop(loop.task_id)
    assert commands == (StartTimer(key, 7),)
    assert (run.status, loop.iteration) == (RunStatus.RUNNING, ITERATIONS_PER_DECISION + 1)
    assert run.fire(key, now=8) == (StartTimer(key, 8),)
    assert run.latest("loop").iteration == 2 * ITERATIONS_PER_DECISION + 1
    assert run.fire(key, now=9) == ()
    assert run.status == RunStatus.COMPLETED
    assert run.state.variables == {"n": 250}
    assert run.fire(key, now=10) == ()  # a late duplicate changes nothing
