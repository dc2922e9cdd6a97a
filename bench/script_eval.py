"""What one script evaluation costs. A micro benchmark, not a test.

Times N evaluations through ``podium.dsl.evaluators.evaluate`` of a SWITCH ``javascript``
expression and of a DO_WHILE ``loopCondition`` (the shapes most definitions use), each over
inputs that change at every call as a running loop's do, and prints the mean wall-clock time
per evaluation of the best round.

Usage: ``python -m bench.script_eval [--count 5000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from podium.dsl import evaluators

SWITCH = "$.order.total > 100 && $.order.currency == 'EUR' ? 'big-eur' : 'other'"
LOOP_CONDITION = "if ($.loop['iteration'] < $.limit) { true; } else { false; }"


def _switch_inputs(index: int) -> dict[str, Any]:
    return {"order": {"total": index % 200, "currency": "EUR", "lines": 2}}


def _loop_inputs(index: int) -> dict[str, Any]:
    return {"loop": {"iteration": index}, "limit": 1_000_000, "work": {"n": index}}


def _mean_us(expression: str, inputs: Any, count: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for index in range(count):
            evaluators.evaluate("javascript", expression, inputs(index))
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    evaluators.evaluate("javascript", "1", {})  # load the engine before timing
    for name, expression, inputs in (
        ("switch", SWITCH, _switch_inputs),
        ("loopCondition", LOOP_CONDITION, _loop_inputs),
    ):
        print(f"{name}: {_mean_us(expression, inputs, args.count, args.rounds):.1f} us/evaluation")


if __name__ == "__main__":
    main()
