"""Evaluating the scripts a definition carries: value-param look-ups, JavaScript and jq.

JavaScript and jq run in ``podium.scripting``'s sandbox: an interpreter no other script has
changed, with no IO, no clock and no way out, bounded in time and memory. That keeps the engine pure in the
sense that matters: the same script over the same inputs gives the same answer, and a runaway
script is stopped and reported instead of hanging the run. QuickJS is the only JavaScript
engine, so that a script means the same on every install: the server loads it at start-up
(:func:`load_engine`) and will not start without it.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from types import ModuleType
from typing import Any

from podium.errors import PodiumError

__all__ = [
    "EVALUATORS",
    "JAVASCRIPT",
    "EvaluationError",
    "ScriptEngineUnavailableError",
    "evaluate",
    "is_true",
    "javascript_problem",
    "jq",
    "load_engine",
]

JAVASCRIPT = frozenset({"javascript", "graaljs"})
EVALUATORS = JAVASCRIPT | {"value-param"}
_SYNTAX_ERROR = re.compile(r"SyntaxError: (.*?)(?: \(line (\d+)\))?$")


class EvaluationError(PodiumError):
    """A script in a definition could not be evaluated; the task that ran it fails."""

    code = "E_SCRIPT"


class ScriptEngineUnavailableError(PodiumError):
    """The script sandbox (QuickJS and jq) could not be loaded, so no script can run."""

    code = "E_SCRIPT_ENGINE"


@functools.cache
def load_engine() -> ModuleType:
    """The script sandbox, ``podium.scripting``, imported on first use.

    It is imported here rather than at the top so that importing the engine does not load
    QuickJS; the server calls this at start-up so that a missing engine stops it there.

    Raises:
        ScriptEngineUnavailableError: the sandbox, or QuickJS under it, could not be imported.
    """
    try:
        return importlib.import_module("podium.scripting")
    except ImportError as exc:
        raise ScriptEngineUnavailableError(
            f"the JavaScript engine could not be loaded ({exc}); Podium runs scripts only in "
            "QuickJS: install the 'quickjs' package (pip install 'quickjs>=1.19')",
            service="dsl",
        ) from exc


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
    sandbox = load_engine()
    try:
        return sandbox.evaluate_javascript(expression, inputs)
    except PodiumError as exc:
        raise EvaluationError(exc.message) from exc
    except Exception as exc:  # a fault in the interpreter must fail the task, not the run
        raise EvaluationError(f"the script could not be run: {exc}") from exc


def jq(query: str, data: Any, *, time_limit_ms: int = 1000) -> list[Any]:
    """Every result of the jq ``query`` over ``data``; one still running after
    ``time_limit_ms`` is stopped and raises an error whose ``code`` is ``E_SCRIPT_TIMEOUT``."""
    sandbox = load_engine()
    try:
        results: list[Any] = sandbox.run_jq(query, data, time_limit_ms=time_limit_ms)
    except PodiumError as exc:
        raise EvaluationError(exc.message, code=exc.code) from exc
    except Exception as exc:
        raise EvaluationError(f"the jq query could not be run: {exc}") from exc
    return results


def javascript_problem(source: str) -> str | None:
    """Why ``source`` is not a script that can run, or None; the script itself is not run."""
    sandbox = load_engine()
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
