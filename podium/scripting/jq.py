"""Conductor's JSON_JQ_TRANSFORM queries, run with the jq library.

``run_jq`` returns every output of the query, in order; Conductor's ``result`` is the first
and ``resultList`` is all of them. A query is compiled here once per query text, so that one
that does not compile is reported without leaving the process; it then runs in a child
process (``jq_pool``) that is killed if it runs past its time limit.

The orchestrator's environment is hidden from queries: ``env`` and ``$ENV`` are empty objects,
and ``import``/``include`` are refused (jq would read modules from disk).
"""

from __future__ import annotations

import atexit
import functools
import json
from typing import Any

import jq

from podium.scripting.errors import ScriptError
from podium.scripting.jq_pool import JqPool

__all__ = ["run_jq"]

# Shadowing happens on the query's first line so that jq's line numbers in runtime errors and
# ``$__loc__`` still match what the author wrote.
_PRELUDE = "def env: {}; {} as $ENV | ("
_POSTLUDE = "\n)"


_POOL = JqPool()
atexit.register(_POOL.close)


def run_jq(query: str, data: Any, *, time_limit_ms: int = 1000) -> list[Any]:
    """Run ``query`` on ``data`` and return all of its outputs as JSON data.

    Raises :class:`ScriptError` with jq's message if the query does not compile or fails,
    and with code ``E_SCRIPT_TIMEOUT`` if it has not finished within ``time_limit_ms`` (its
    process is killed then, however it is computing). The calling thread waits without
    holding the GIL, so other threads and the event loop go on meanwhile.
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
    return _POOL.run(program, text, time_limit_ms)


@functools.lru_cache(maxsize=256)
def _compile(query: str) -> str:
    """The environment-free text of ``query``, checked to compile; failures are not cached."""
    try:
        # Compiled as written first, so that syntax errors point at the author's own columns.
        jq.compile(query)
    except ValueError as exc:
        raise ScriptError(
            f"jq query does not compile: {_compile_message(exc)}", code="E_SCRIPT_SYNTAX"
        ) from exc
    program = _PRELUDE + query + _POSTLUDE
    try:
        jq.compile(program)
    except ValueError as exc:
        raise ScriptError(
            "jq query cannot be run: modules (import, include) are not available",
            code="E_SCRIPT_SYNTAX",
        ) from exc
    return program


def _compile_message(exc: ValueError) -> str:
    """jq's compile error without its ``jq: error:`` prefix and error-count trailer."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    if lines and lines[-1].startswith("jq: ") and lines[-1].endswith("compile error"):
        lines.pop()
    if lines:
        lines[0] = lines[0].removeprefix("jq: error: ")
    return "\n".join(lines)
