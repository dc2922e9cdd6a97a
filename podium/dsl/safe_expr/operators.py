"""JavaScript operators, their binding powers, and the few methods the evaluator allows."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any, Final

from podium.dsl.safe_expr.values import (
    _INF,
    _NAN,
    UNDEFINED,
    _check_length,
    _describe,
    _error,
    _loose_equals,
    _num,
    _same_value_zero,
    _strict_equals,
    _to_number,
    _to_primitive,
    _to_string,
)

# ---------------------------------------------------------------------------------------------
# Operators


def _add(left: Any, right: Any) -> Any:
    left_kind, right_kind = type(left), type(right)
    if (left_kind is int or left_kind is float) and (right_kind is int or right_kind is float):
        return _num(left + right)
    if left_kind is str and right_kind is str:
        text = left + right
    else:
        left, right = _to_primitive(left), _to_primitive(right)
        if type(left) is str or type(right) is str:
            text = _to_string(left) + _to_string(right)
        else:
            return _num(_to_number(left) + _to_number(right))
    return _check_length(text)


def _subtract(left: Any, right: Any) -> Any:
    return _num(_to_number(left) - _to_number(right))


def _multiply(left: Any, right: Any) -> Any:
    return _num(_to_number(left) * _to_number(right))


def _divide(left: Any, right: Any) -> Any:
    dividend, divisor = _to_number(left), _to_number(right)
    if divisor == 0:
        if dividend == 0 or dividend != dividend:
            return _NAN
        return math.copysign(_INF, dividend) * math.copysign(1.0, divisor)
    return _num(dividend / divisor)


def _remainder(left: Any, right: Any) -> Any:
    dividend, divisor = _to_number(left), _to_number(right)
    if divisor == 0 or divisor != divisor or dividend != dividend or math.isinf(dividend):
        return _NAN
    if math.isinf(divisor):
        return dividend
    # fmod keeps the dividend's sign, as JavaScript's % does (Python's % does not).
    return _num(math.fmod(dividend, divisor))


def _relational(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def apply(left: Any, right: Any) -> bool:
        left, right = _to_primitive(left), _to_primitive(right)
        if type(left) is str and type(right) is str:
            return compare(left, right)
        # Comparisons with NaN are false in Python as in JavaScript.
        return compare(_to_number(left), _to_number(right))

    return apply


_BINARY_FUNCTIONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "*": _multiply,
    "/": _divide,
    "%": _remainder,
    "+": _add,
    "-": _subtract,
    "<": _relational(operator.lt),
    "<=": _relational(operator.le),
    ">": _relational(operator.gt),
    ">=": _relational(operator.ge),
    "==": _loose_equals,
    "!=": lambda left, right: not _loose_equals(left, right),
    "===": _strict_equals,
    "!==": lambda left, right: not _strict_equals(left, right),
}
_LOGICAL_OPERATORS: Final = frozenset({"&&", "||", "??"})
_BINDING_POWER: Final = {
    "??": 3,
    "||": 3,
    "&&": 4,
    "==": 8,
    "!=": 8,
    "===": 8,
    "!==": 8,
    "<": 9,
    "<=": 9,
    ">": 9,
    ">=": 9,
    "+": 11,
    "-": 11,
    "*": 12,
    "/": 12,
    "%": 12,
}
_TERNARY_POWER: Final = 2


def _call_method(receiver: Any, name: str, args: Sequence[Any], pos: int) -> Any:
    if receiver is None or receiver is UNDEFINED:
        raise _error(f"cannot read property {name!r} of {_describe(receiver)} (at {pos})", pos)
    argument = args[0] if args else UNDEFINED
    kind = type(receiver)
    if kind is str:
        if name == "includes":
            return _to_string(argument) in receiver
        if name == "indexOf":
            return receiver.find(_to_string(argument))
        if name == "startsWith":
            return receiver.startswith(_to_string(argument))
        if name == "endsWith":
            return receiver.endswith(_to_string(argument))
        if name == "toUpperCase":
            return _check_length(receiver.upper())
        if name == "toLowerCase":
            return _check_length(receiver.lower())
        if name == "trim":
            return receiver.strip()
    elif kind is list or kind is tuple:
        if name == "includes":
            return any(_same_value_zero(item, argument) for item in receiver)
        if name == "indexOf":
            for index, item in enumerate(receiver):
                if _strict_equals(item, argument):
                    return index
            return -1
    raise _error(f"{name!r} is not a method of a {_describe(receiver)} value (at {pos})", pos)
