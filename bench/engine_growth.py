"""Does a step's cost in the engine grow with the run? A micro benchmark, not a test.

``loop``: a DO_WHILE runs N iterations of one SIMPLE task; each step is one ``decide`` (the
body task's result: record it, check the loop, schedule the next iteration), with no store.
``chain``: N SIMPLE steps one after another, each step one result. Either way the run grows by
a task per step, so a step that copied or walked every task would cost more at the end than
at the start. Prints the mean CPU time per step (this thread's, so that other processes on
the machine count less) over the first and the last tenth of the steps and their ratio
(target: the last tenth within 1.2x of the first).

The loop's condition is a ``value-param`` one, read from the body's output, so that what is
measured is the engine's own bookkeeping rather than a script interpreter's. The DO_WHILE's
output holds every iteration's (as Conductor's does, without ``keepLastN``) and a task's
output is never changed in place, so each iteration copies that dict once: O(iterations) in
C, which ``chain`` does not have.

Usage: ``python -m bench.engine_growth [--shape loop chain] [--iterations 2000 10000]
[--rounds 3]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

from podium.dsl.models import WorkflowDef
from podium.engine import Blueprint, RunState, RunStatus, TaskStatus, decide
from podium.engine.events import RunStarted, TaskResult
from podium.engine.limits import EngineLimits


def _definition(iterations: int) -> WorkflowDef:
    body = {
        "name": "work",
        "taskReferenceName": "work",
        "type": "SIMPLE",
        "taskDefinition": {"name": "work", "retryCount": 0},
    }
    loop = {
        "name": "loop",
        "taskReferenceName": "loop",
        "type": "DO_WHILE",
        "inputParameters": {"more": "${work.output.more}"},
        "evaluatorType": "value-param",
        "loopCondition": "more",
        "loopOver": [body],
    }
    return WorkflowDef.model_validate({"name": "growth", "version": 1, "tasks": [loop]})


def _chain(steps: int) -> WorkflowDef:
    tasks = [
        {"name": "work", "taskReferenceName": f"work{n}", "type": "SIMPLE"}
        for n in range(1, steps + 1)
    ]
    return WorkflowDef.model_validate({"name": "growth", "version": 1, "tasks": tasks})


def _step_times(shape: str, iterations: int) -> list[float]:
    """CPU seconds each step's ``decide`` took, in order."""
    # The run may hold every iteration's task: lift the limits meant for production runs.
    limits = EngineLimits(max_tasks_per_run=iterations + 10, max_loop_iterations=iterations + 10)
    definition = _definition(iterations) if shape == "loop" else _chain(iterations)
    plan = Blueprint(definition, limits)
    state = RunState(run_id="r1", name="growth", version=1, status=RunStatus.RUNNING, created_at=0)
    state = decide(state, RunStarted(0), plan).state
    times: list[float] = []
    clock = time.thread_time
    ref = "work__{}" if shape == "loop" else "work{}"
    for n in range(1, iterations + 1):
        body = state.latest(ref.format(n))
        assert body is not None, f"no task for step {n}"
        output: dict[str, Any] = {"more": n < iterations}
        event = TaskResult(n, body.task_id, TaskStatus.COMPLETED, output)
        started = clock()
        state = decide(state, event, plan).state
        times.append(clock() - started)
    assert state.status == RunStatus.COMPLETED, state.status
    return times


def _tenths(times: list[float]) -> tuple[float, float]:
    tenth = max(1, len(times) // 10)
    return statistics.fmean(times[:tenth]), statistics.fmean(times[-tenth:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", nargs="+", choices=["loop", "chain"], default=["loop", "chain"])
    parser.add_argument("--iterations", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| shape | steps | round | first tenth (us/step) | last tenth (us/step) | ratio |")
    print("|---|---|---|---|---|---|")
    for shape in args.shape:
        for iterations in args.iterations:
            for round_ in range(1, args.rounds + 1):
                gc.collect()
                first, last = _tenths(_step_times(shape, iterations))
                print(
                    f"| {shape} | {iterations} | {round_} | {first * 1e6:.0f} "
                    f"| {last * 1e6:.0f} | {last / first:.2f}x |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
