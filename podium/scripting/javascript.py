"""Conductor's JavaScript scripts (INLINE ``expression``), run in an embedded QuickJS engine.

Each call runs with ``$`` bound to a JSON copy of the task's inputs, a CPU-time limit and a
memory limit. The engine has only ECMAScript's built-ins: there is no ``require``,
``process``, module loader, file, network, environment or timer, and nothing in it can reach
Python.

A script that might change the interpreter (a global, a built-in) gets a fresh one, so that
nothing one script does is seen by the next. The others, which most SWITCH expressions and
DO_WHILE conditions are, run in an interpreter their thread keeps, and one that is a single
expression is compiled once (``script_shape.py`` says which is which). Any failure drops the
kept interpreter, so a script stopped half-way leaves nothing either.

The script is evaluated the way Conductor evaluates it: its value is the value of its last
expression statement, so ``$.a > 1``, ``(function () { return $.a; })()`` and
``var x = $.a; x * 2`` all work. The value is returned as JSON would carry it; numbers that
are integral come back as ``int``.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import quickjs

from podium.scripting.errors import ScriptError
from podium.scripting.script_shape import Shape, shape

__all__ = ["evaluate_javascript"]

# JSON conversion happens in here, so a ``toJSON`` that loops forever is stopped by the same
# time limit. The built-ins are captured before any script can overwrite them. Results come
# back as one string: "=" and the JSON text, or "!" and why it cannot be JSON.
_ENCODE = """const stringify = JSON.stringify, isFinite = Number.isFinite, Internal = InternalError;
  function replacer(key, item) {
    const kind = typeof item;
    if (kind === "function" || kind === "symbol" || kind === "bigint" ||
        (kind === "number" && !isFinite(item))) {
      const what = key === "" ? "the result" : "the value at key " + stringify(key);
      const is = kind === "number" ? String(item) : "a " + kind;
      throw new TypeError(what + " is " + is + ", which JSON cannot represent");
    }
    return item;
  }
  function encode(value) {
    try {
      const text = stringify(value, replacer);
      return text === undefined ? "=null" : "=" + text;
    } catch (error) {
      if (error instanceof Internal) throw error;
      return "!" + (error instanceof Error ? error.message : String(error));
    }
  }"""

# The script travels as a JSON string literal and runs through an indirect eval, so it runs in
# global scope and its completion value is the result, exactly as a top-level script's would
# be.
_WRAPPER = (
    "(function (source) {\n  "
    + _ENCODE.replace("%", "%%")
    + "\n  return encode((0, eval)(source));\n})(%s)"
)

# The kept interpreter's runner: the same evaluation, with single expressions compiled once
# (the cache is cleared when full). A compiled expression that throws is evaluated again as a
# script, so that the error names the script's own lines, as a fresh interpreter's would.
_RUNNER = (
    "(function () {\n  "
    + _ENCODE
    + """
  const evaluate = eval, Compile = Function, compiled = new Map();
  return function (source, expression) {
    if (!expression) return encode(evaluate(source));
    let run = compiled.get(source);
    if (run === undefined) {
      if (compiled.size >= 512) compiled.clear();
      try { run = Compile("return (" + source + "\\n)"); } catch (error) { run = null; }
      compiled.set(source, run);
    }
    if (run === null) return encode(evaluate(source));
    let value;
    try { value = run(); } catch (error) {
      if (error instanceof Internal) throw error;
      return encode(evaluate(source));
    }
    return encode(value);
  };
})()"""
)

# Only frames above the wrapper's own ``eval`` call belong to the script.
_LINE = re.compile(r"<input>:(\d+)")
_WRAPPER_FRAME = "at eval (native)"


def evaluate_javascript(
    script: str,
    bindings: dict[str, Any],
    *,
    time_limit_ms: int = 100,
    memory_limit_bytes: int = 32 * 1024 * 1024,
) -> Any:
    """Run ``script`` with ``$`` bound to ``bindings`` and return its value as JSON data.

    The limits apply to this one evaluation. The time limit counts CPU time of the whole
    process, so under parallel load a script is stopped sooner than its wall-clock limit.
    Raises :class:`ScriptError` if the script does not compile, throws, exceeds a limit or
    returns something JSON cannot hold. Safe to call from several threads at once.
    """
    if time_limit_ms <= 0 or memory_limit_bytes <= 0:
        raise ValueError("time_limit_ms and memory_limit_bytes must be positive")
    try:
        inputs = json.dumps(bindings, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ScriptError(
            f"the script's inputs cannot be converted to JSON: {exc}", code="E_SCRIPT_INPUT"
        ) from exc
    how = shape(script)
    if how is Shape.FRESH:
        outcome = _run_fresh(script, inputs, time_limit_ms, memory_limit_bytes)
    else:
        outcome = _run_kept(script, how, inputs, time_limit_ms, memory_limit_bytes)
    if not isinstance(outcome, str) or outcome[:1] not in ("=", "!"):
        raise ScriptError(f"unexpected value from the JavaScript engine: {outcome!r}")
    if outcome[0] == "!":
        raise ScriptError(
            f"the script's result cannot be converted to JSON: {outcome[1:]}",
            code="E_SCRIPT_RESULT",
        )
    return json.loads(outcome[1:])


def _run_fresh(script: str, inputs: str, time_limit_ms: int, memory_limit: int) -> Any:
    # A runtime is bound to the thread that made it (it records that thread's stack), so each
    # call makes, uses and drops its own; QuickJS releases the GIL while the script runs.
    context = quickjs.Context()
    try:
        _bind(context, inputs, time_limit_ms, memory_limit)
        try:
            return context.eval(_WRAPPER % json.dumps(script))
        except quickjs.JSException as exc:
            raise _failure(exc, context, time_limit_ms, memory_limit) from None
    finally:
        # The traceback keeps this frame alive; dropping the runtime here frees it on this thread.
        del context


class _Kept(threading.local):
    """This thread's interpreter for scripts that cannot change it, and its runner."""

    context: quickjs.Context | None = None
    runner: Any = None


_kept = _Kept()


def _run_kept(script: str, how: Shape, inputs: str, time_limit_ms: int, memory_limit: int) -> Any:
    context = _kept.context
    if context is None:
        context = quickjs.Context()
        _kept.runner = context.eval(_RUNNER)
        _kept.context = context
    try:
        _bind(context, inputs, time_limit_ms, memory_limit)
        try:
            return _kept.runner(script, how is Shape.EXPRESSION)
        except quickjs.JSException as exc:
            raise _failure(exc, context, time_limit_ms, memory_limit) from None
    except BaseException:
        # Whatever a failed call left half-done (a script stopped by a limit) goes with it.
        _kept.context = _kept.runner = None
        raise
    finally:
        del context


def _bind(context: quickjs.Context, inputs: str, time_limit_ms: int, memory_limit: int) -> None:
    """Set this call's limits on ``context`` and bind ``$`` to the inputs' JSON text."""
    context.set_memory_limit(memory_limit)
    context.set_time_limit(time_limit_ms / 1000)
    try:
        context.set("$", context.parse_json(inputs))
    except quickjs.JSException as exc:
        raise ScriptError(
            f"the script's inputs do not fit in {memory_limit} bytes of memory",
            code="E_SCRIPT_MEMORY",
        ) from exc


def _failure(
    exc: quickjs.JSException, context: quickjs.Context, time_limit_ms: int, memory_limit: int
) -> ScriptError:
    """Turn a QuickJS exception into a ScriptError that says what went wrong and where."""
    first, _, stack = str(exc).partition("\n")
    if first == "InternalError: interrupted":
        return ScriptError(
            f"script ran longer than {time_limit_ms} ms and was stopped", code="E_SCRIPT_TIMEOUT"
        )
    no_error = first in ("null", "") or first.startswith("(Failed obtaining")
    if first == "InternalError: out of memory" or (
        no_error and context.memory()["malloc_size"] >= memory_limit // 2
    ):
        return ScriptError(
            f"script used more than {memory_limit} bytes of memory and was stopped",
            code="E_SCRIPT_MEMORY",
        )
    if no_error:
        # Out of memory, QuickJS may lack the memory to build the error and throw null instead;
        # once the script's data is freed that cannot be told apart from ``throw null``.
        return ScriptError(
            f"script threw null, or used more than {memory_limit} bytes of memory",
            code="E_SCRIPT",
        )
    if isinstance(exc, quickjs.StackOverflow):
        return ScriptError("script recursed too deeply (stack overflow)", code="E_SCRIPT")
    line = _LINE.search(stack.split(_WRAPPER_FRAME, 1)[0])
    where = f" (line {line.group(1)})" if line else ""
    code = "E_SCRIPT_SYNTAX" if first.startswith("SyntaxError:") else "E_SCRIPT"
    return ScriptError(f"script failed: {first}{where}", code=code)
