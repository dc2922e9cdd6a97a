"""A JOIN after a wide dynamic fork: right whatever order its branches end in, and a branch's
result costs the same however wide the fork is."""

from __future__ import annotations

import random
from typing import Any

import pytest

from podium.engine import RunState, RunStatus, TaskStatus, decide
from podium.engine.events import RunStarted, TaskResult
from tests.unit.engine_helpers import Run, blueprint, calls_to_decide, fresh_state, step, workflow


def _fan(width: int) -> dict[str, Any]:
    """Branches of ``work``, which has no TaskDef: Conductor's default of 3 retries."""
    return workflow(
        [
            step(
                "fan",
                type="FORK_JOIN_DYNAMIC",
                inputParameters={
                    "forkTaskName": "work",
                    "forkTaskInputs": [{"n": n} for n in range(width)],
                },
            ),
            step("join", type="JOIN"),
        ]
    )


def _refs(width: int) -> list[str]:
    return [f"_work_{n}" for n in range(width)]


@pytest.mark.parametrize("seed", range(6))
def test_the_join_waits_for_every_branch_in_any_order_and_joins_them_in_fork_order(
    seed: int,
) -> None:
    rng = random.Random(seed)
    width = 24
    run = Run(_fan(width), validate=False)
    run.start(now=0)
    order = _refs(width)
    rng.shuffle(order)
    failing = rng.choice(order)  # fails once, after the branches around it have ended
    now = 1
    for ref in order:
        if ref == failing:
            run.fail(ref, now=now)
            now += 1
            assert run.latest("join").status == TaskStatus.IN_PROGRESS
        run.complete(ref, {"from": ref, "attempt": len(run.attempts(ref))}, now=now)
        now += 1
        done = all(run.latest(r).status == TaskStatus.COMPLETED for r in _refs(width))
        assert (run.latest("join").status == TaskStatus.COMPLETED) == done, ref
    join = run.latest("join")
    assert list(join.output) == _refs(width)
    assert join.output[failing] == {"from": failing, "attempt": 2}
    assert run.status == RunStatus.COMPLETED


def test_a_branch_that_fails_for_good_fails_the_run_and_the_join_never_completes() -> None:
    run = Run(_fan(5), validate=False)
    run.start(now=0)
    for ref in ["_work_4", "_work_0", "_work_3"]:
        run.complete(ref, now=1)
    for now in range(2, 6):  # the first try and its 3 retries
        assert run.status == RunStatus.RUNNING
        run.fail("_work_1", now=now)
    assert run.status == RunStatus.FAILED
    assert run.latest("join").status != TaskStatus.COMPLETED


def _calls_for_result(state: RunState, ref: str, plan: Any, now: int) -> tuple[int, RunState]:
    task = state.latest(ref)
    assert task is not None
    event = TaskResult(now, task.task_id, TaskStatus.COMPLETED, {"ok": True})
    return calls_to_decide(state, event, plan)


def _counts(width: int, results: int) -> list[int]:
    plan = blueprint(_fan(width), validate=False)
    state = decide(fresh_state(), RunStarted(0), plan).state
    counts: list[int] = []
    for n in range(results):
        calls, state = _calls_for_result(state, f"_work_{n}", plan, n + 1)
        counts.append(calls)
    return counts


def test_a_branch_result_calls_no_more_functions_in_a_wide_fork_than_in_a_narrow_one() -> None:
    # Counted, not timed: a walk over the branches (the running ones, or the join's refs)
    # in any decision shows as more calls in the wider fork.
    # A few calls either way, as in test_run_state_changes: a set's order varies.
    narrow, wide = _counts(40, 12), _counts(320, 12)
    assert all(abs(n - w) <= 4 for n, w in zip(narrow[4:], wide[4:], strict=True)), (narrow, wide)
