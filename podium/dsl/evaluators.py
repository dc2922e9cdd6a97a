"""Evaluating the scripts a definition carries: value-param look-ups, JavaScript and jq.

JavaScript and jq run in ``podium.scripting``'s sandbox: a fresh interpreter per call with no
IO, no clock and no way out, bounded in time and memory. That keeps the engine pure in the
sense that matters: the same script over the same inputs gives the same answer, and a runaway
script is stopped and reported instead of hanging the run. Where the sandbox cannot be loaded
(its interpreter is not installed), JavaScript falls back to Podium's safe expression
evaluator, which covers the expressions most SWITCH and DO_WHILE definitions use.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from types import ModuleType
from typing import Any

from podium.dsl import safe_expr
from podium.errors import PodiumError

__all__ = [
    "EVALUATORS",
    "JAVASCRIPT",
    "EvaluationError",
    "evaluate",
    "is_true",
    "javascript_problem",
    "jq",
]

JAVASCRIPT = frozenset({"javascript", "graaljs"})
EVALUATORS = JAVASCRIPT | {"value-param"}
_SYNTAX_ERROR = re.compile(r"SyntaxError: (.*?)(?: \(line (\d+)\))?$")


class EvaluationError(PodiumError):
    """A script in a definition could not be evaluated; the task that ran it fails."""

    code = "E_SCRIPT"


@functools.cache
def _sandbox() -> ModuleType | None:
    try:
        module = importlib.import_module("podium.scripting")
    except ImportError:
        return None
    ready = all(hasattr(module, name) for name in ("evaluate_javascript", "run_jq"))
    return module if ready else None


def evaluate(evaluator: str, expression: str, inputs: dict[str, Any]) -> Any:
    """The value of ``expression`` with ``$`` bound to ``inputs``, as ``evaluator`` reads it.

    ``value-param`` reads the input parameter named ``expression``; ``javascript`` and
    ``graaljs`` (Conductor's two names for its JavaScript engines) run it as a script.
    """
    kind = evaluator.lower()
    if kind == "value-param":
        return inputs.get(expression)
    if kind not in JAVASCRIPT:
        raise EvaluationError(f"unknown evaluatorType '{evaluator}'")
    sandbox = _sandbox()
    try:
        if sandbox is None:
            return safe_expr.evaluate(expression, {"$": inputs})
        return sandbox.evaluate_javascript(expression, inputs)
    except PodiumError as exc:
        raise EvaluationError(exc.message) from exc
    except Exception as exc:  # a fault in the interpreter must fail the task, not the run
        raise EvaluationError(f"the script could not be run: {exc}") from exc


def jq(query: str, data: Any, *, time_limit_ms: int = 1000) -> list[Any]:
    """Every result of the jq ``query`` over ``data``; one still running after
    ``time_limit_ms`` is stopped and raises an error whose ``code`` is ``E_SCRIPT_TIMEOUT``."""
    sandbox = _sandbox()
    if sandbox is None:
        raise EvaluationError("jq is not available: podium.scripting could not be loaded")
    try:
        results: list[Any] = sandbox.run_jq(query, data, time_limit_ms=time_limit_ms)
    except PodiumError as exc:
        raise EvaluationError(exc.message, code=exc.code) from exc
    except Exception as exc:
        raise EvaluationError(f"the jq query could not be run: {exc}") from exc
    return results


def javascript_problem(source: str) -> str | None:
    """Why ``source`` is not a script that can run, or None; the script itself is not run."""
    sandbox = _sandbox()
    if sandbox is None:
        try:
            safe_expr.compile_expression(source)
        except PodiumError as exc:
            return exc.message
        return None
    # Compiling the source as a function body checks its syntax without running any of it.
    probe = f"new Function({json.dumps(source)}); null"
    try:
        sandbox.evaluate_javascript(probe, {})
    except PodiumError as exc:
        found = _SYNTAX_ERROR.search(exc.message)
        if found is None:
            return exc.message
        # The function wrapper puts the source two lines down.
        line = f" (line {int(found.group(2)) - 2})" if found.group(2) else ""
        return f"SyntaxError: {found.group(1)}{line}"
    except Exception as exc:
        return f"the script could not be checked: {exc}"
    return None


def is_true(value: Any) -> bool:
    """Conductor's reading of a condition's value: true, or a number above zero."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    return False
