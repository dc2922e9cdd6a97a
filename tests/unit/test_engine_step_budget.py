"""The decision step budget: a long chain of system steps is decided in slices, each one going
on from a timer due at once, and ends as it would have in one decision."""

from __future__ import annotations

import time
from typing import Any

from podium.dsl.models import WorkflowDef
from podium.engine import RunStatus
from podium.engine.blueprint import Blueprint
from podium.engine.decider import CONTINUE_TIMER_KEY
from podium.engine.events import StartTimer, TimerFired
from podium.engine.limits import EngineLimits
from tests.unit.engine_helpers import Run


def _chain(steps: int) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = [
        {
            "name": "set",
            "taskReferenceName": f"s{n}",
            "type": "SET_VARIABLE",
            # Each step reads the one before it and the first one, through ${...}.
            "inputParameters": {"last": f"${{s{n - 1}.input.last}}" if n else 0, "n": n},
        }
        for n in range(steps)
    ]
    tasks.append(
        {
            "name": "shape",
            "taskReferenceName": "shape",
            "type": "INLINE",
            "inputParameters": {
                "evaluatorType": "javascript",
                "expression": "$.first + $.n",
                "first": "${s0.input.n}",
                "n": f"${{s{steps - 1}.input.n}}",
            },
        }
    )
    return {"name": "chain", "tasks": tasks}


def _run(steps: int, budget: int) -> Run:
    run = Run(_chain(steps))
    definition = WorkflowDef.model_validate(_chain(steps))
    run.blueprint = Blueprint(definition, EngineLimits(decision_step_budget=budget))
    return run


def test_a_chain_past_the_budget_goes_on_from_a_timer_until_it_ends():
    run = _run(2_500, budget=1_000)
    commands = run.start(now=0)
    assert run.state.status == RunStatus.RUNNING
    assert len(run.state.tasks) == 1_000
    assert StartTimer(CONTINUE_TIMER_KEY, 0) in commands
    run.send(TimerFired(5, CONTINUE_TIMER_KEY))
    assert run.state.status == RunStatus.RUNNING and len(run.state.tasks) == 2_000
    commands = run.send(TimerFired(10, CONTINUE_TIMER_KEY))
    assert run.state.status == RunStatus.COMPLETED
    assert not any(isinstance(c, StartTimer) for c in commands)
    assert len(run.state.tasks) == 2_501
    assert run.latest("s2499").input == {"last": 0, "n": 2499}
    assert run.latest("shape").output == {"result": 2499}


def test_a_chain_within_the_budget_ends_in_one_decision_in_linear_time():
    run = _run(10_000, budget=20_000)
    began = time.perf_counter()
    commands = run.start(now=0)
    elapsed = time.perf_counter() - began
    assert run.state.status == RunStatus.COMPLETED
    assert StartTimer(CONTINUE_TIMER_KEY, 0) not in commands
    assert run.latest("shape").output == {"result": 9999}
    assert elapsed < 5, elapsed  # each step walked every task before: about a minute
