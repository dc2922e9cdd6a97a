"""Conductor's JSON_JQ_TRANSFORM queries, run with the jq library.

``run_jq`` returns every output of the query, in order; Conductor's ``result`` is the first
and ``resultList`` is all of them. Queries are compiled once per query text and the compiled
program is shared: the binding hands each concurrent run its own jq state.

The orchestrator's environment is hidden from queries: ``env`` and ``$ENV`` are empty objects,
and ``import``/``include`` are refused (jq would read modules from disk).
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import jq

from podium.scripting.errors import ScriptError

__all__ = ["run_jq"]

# Shadowing happens on the query's first line so that jq's line numbers in runtime errors and
# ``$__loc__`` still match what the author wrote.
_PRELUDE = "def env: {}; {} as $ENV | ("
_POSTLUDE = "\n)"


def run_jq(query: str, data: Any, *, time_limit_ms: int = 1000) -> list[Any]:
    """Run ``query`` on ``data`` and return all of its outputs as JSON data.

    Raises :class:`ScriptError` with jq's message if the query does not compile or fails.

    The jq library offers no way to interrupt a running query and holds the GIL while it
    computes, so ``time_limit_ms`` is checked between outputs only: it stops a query that
    streams results for too long (``repeat(1)``, ``range(1e12)``), but not one that computes
    for long before its next output (``last(range(1e12))``); that one blocks its thread, and
    other Python threads, until it finishes. Running jq out of process is the only real cap.
    """
    if time_limit_ms <= 0:
        raise ValueError("time_limit_ms must be positive")
    program = _compile(query)
    try:
        text = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ScriptError(
            f"the jq query's input cannot be converted to JSON: {exc}", code="E_SCRIPT_INPUT"
        ) from exc
    deadline = time.monotonic() + time_limit_ms / 1000
    outputs: list[Any] = []
    try:
        for output in program.input_text(text):
            outputs.append(output)
            if time.monotonic() > deadline:
                raise ScriptError(
                    f"jq query ran longer than {time_limit_ms} ms and was stopped "
                    f"after {len(outputs)} outputs",
                    code="E_SCRIPT_TIMEOUT",
                )
    except ValueError as exc:
        raise ScriptError(f"jq query failed: {exc}", code="E_SCRIPT") from exc
    return outputs


@functools.lru_cache(maxsize=256)
def _compile(query: str) -> Any:
    """The compiled, environment-free program for ``query``; failures are not cached."""
    try:
        # Compiled as written first, so that syntax errors point at the author's own columns.
        jq.compile(query)
    except ValueError as exc:
        raise ScriptError(
            f"jq query does not compile: {_compile_message(exc)}", code="E_SCRIPT_SYNTAX"
        ) from exc
    try:
        return jq.compile(_PRELUDE + query + _POSTLUDE)
    except ValueError as exc:
        raise ScriptError(
            "jq query cannot be run: modules (import, include) are not available",
            code="E_SCRIPT_SYNTAX",
        ) from exc


def _compile_message(exc: ValueError) -> str:
    """jq's compile error without its ``jq: error:`` prefix and error-count trailer."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    if lines and lines[-1].startswith("jq: ") and lines[-1].endswith("compile error"):
        lines.pop()
    if lines:
        lines[0] = lines[0].removeprefix("jq: error: ")
    return "\n".join(lines)
