"""A safe evaluator for the JavaScript expressions Conductor's SWITCH tasks use.

Conductor runs SWITCH ``expression`` scripts in a JavaScript engine with ``$`` bound to the
task's inputs. Podium never runs JavaScript or Python ``eval``: the source is tokenised and
parsed into a small syntax tree, and that tree is interpreted against the bindings. Only
expressions are accepted:

* literals: numbers, ``'single'``/``"double"`` strings, ``true``, ``false``, ``null``,
  ``undefined``, ``[arrays]`` and ``{objects: 1}``;
* names from the bindings (``$``), ``.member``, ``[index]``, ``.length``;
* the methods ``includes``, ``indexOf``, ``toUpperCase``, ``toLowerCase``, ``trim``,
  ``startsWith`` and ``endsWith``, and no other call;
* ``! - + typeof``, ``* / % + - < <= > >= == != === !== && || ??`` with JavaScript's
  precedence, ``a ? b : c`` and parentheses;
* one trailing ``;``, and the wrappers ``(function(){ return EXPR; })()`` and
  ``function f() { return EXPR; } f();`` that Conductor definitions often use.

Values follow JavaScript where it is cheap: ``+`` concatenates when either side is a string,
``==`` is loose and ``===`` strict, ``&&``/``||``/``??`` return an operand, truthiness is
JavaScript's. A missing member is ``undefined``, returned to Python as ``None``; reading a
member of ``null`` or ``undefined`` raises :class:`ExpressionError`. Integral numeric results
are returned as ``int``, as JSON would print them.

Only dict keys, list indexes and the listed methods are reachable: no attribute of any Python
object is ever read. Source length, nesting depth and string results are bounded.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from podium.dsl.expressions import ExpressionError
from podium.dsl.safe_expr.nodes import _Node
from podium.dsl.safe_expr.parser import _Parser
from podium.dsl.safe_expr.tokens import _tokenize
from podium.dsl.safe_expr.values import (
    _COMPILE_CACHE_SIZE,
    MAX_DEPTH,
    MAX_SOURCE_LENGTH,
    MAX_STRING_LENGTH,
    UNDEFINED,
    _error,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_SOURCE_LENGTH",
    "MAX_STRING_LENGTH",
    "UNDEFINED",
    "CompiledExpression",
    "ExpressionError",
    "compile_expression",
    "evaluate",
]


# ---------------------------------------------------------------------------------------------
# Public API


class CompiledExpression:
    """A parsed expression, ready to evaluate against many sets of bindings."""

    __slots__ = ("_root", "source")

    def __init__(self, source: str, root: _Node) -> None:
        self.source = source
        self._root = root

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(self, bindings: Mapping[str, Any]) -> Any:
        """Evaluate against ``bindings`` (Conductor binds ``$`` to the task's inputs).

        ``undefined`` is returned as ``None``.

        Raises:
            ExpressionError: a member of ``null``/``undefined`` was read, a name is not bound,
                a method was called on the wrong type, or a string grew past the limit.
        """
        value = self._root.evaluate(bindings)
        return None if value is UNDEFINED else value


def compile_expression(source: str) -> CompiledExpression:
    """Parse ``source`` into a :class:`CompiledExpression`.

    Raises:
        ExpressionError: the source is too long, nested too deeply, not valid, or uses
            JavaScript outside the supported subset. The message names the 0-based offset
            and the offending text, e.g. ``unsupported JavaScript at 0: 'while' (...)``;
            the offset is also in the error's ``position``.
    """
    if not isinstance(source, str):
        raise _error(f"expression must be a string, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise _error(
            f"expression is {len(source)} characters long; at most {MAX_SOURCE_LENGTH} allowed"
        )
    parser = _Parser(_tokenize(source))
    return CompiledExpression(source, parser.parse_program())


@functools.lru_cache(maxsize=_COMPILE_CACHE_SIZE)
def _compile_cached(source: str) -> CompiledExpression:
    return compile_expression(source)


def evaluate(source: str, bindings: Mapping[str, Any]) -> Any:
    """Compile ``source`` (cached) and evaluate it against ``bindings``.

    Raises:
        ExpressionError: as :func:`compile_expression` and :meth:`CompiledExpression.evaluate`.
    """
    if not isinstance(source, str):
        raise _error(f"expression must be a string, not {type(source).__name__}")
    return _compile_cached(source).evaluate(bindings)
