"""JavaScript values for the safe evaluator: limits, ``undefined``, errors, conversions,
truthiness, member access and equality."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from podium.dsl.expressions import ExpressionError

MAX_SOURCE_LENGTH: Final = 10_000
MAX_DEPTH: Final = 100
MAX_STRING_LENGTH: Final = 1_000_000
_COMPILE_CACHE_SIZE: Final = 1024
# Beyond this JavaScript numbers are no longer exact integers; Python ints are turned into
# floats there so that results match a JavaScript engine and never grow without bound.
_MAX_SAFE_INTEGER: Final = 2**53 - 1
_NAN: Final = float("nan")
_INF: Final = float("inf")


class _Undefined:
    """JavaScript's ``undefined``: a missing member, distinct from ``null`` (``None``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Final = _Undefined()


def _error(message: str, pos: int | None = None) -> ExpressionError:
    return ExpressionError(message, field="expression", position=pos)


# ---------------------------------------------------------------------------------------------
# JavaScript values


def _num(value: int | float) -> int | float:
    """A JavaScript number as Python: integral values as ``int``, others as ``float``."""
    if isinstance(value, int):
        if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
            return value
        try:
            return float(value)
        except OverflowError:
            return _INF if value > 0 else -_INF
    if value.is_integer() and -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
        return int(value)
    return value


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


_STRING_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_STRING_RADIX_RE: Final = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


def _string_to_number(text: str) -> int | float:
    text = text.strip()
    if not text:
        return 0
    if _STRING_NUMBER_RE.fullmatch(text):
        if "." in text or "e" in text or "E" in text:
            return _num(float(text))
        return _num(int(text))
    if text in ("Infinity", "+Infinity"):
        return _INF
    if text == "-Infinity":
        return -_INF
    if _STRING_RADIX_RE.fullmatch(text):
        return _num(int(text[2:], {"x": 16, "o": 8, "b": 2}[text[1].lower()]))
    return _NAN


def _to_number(value: Any) -> int | float:
    kind = type(value)
    if kind is int or kind is float:
        return _num(value)
    if kind is bool:
        return 1 if value else 0
    if value is None:
        return 0
    if kind is str:
        return _string_to_number(value)
    if kind is list or kind is tuple:
        return _string_to_number(_to_string(value))
    return _NAN


def _number_to_string(value: int | float) -> str:
    if isinstance(value, int):
        if abs(value) < 10**21:
            return str(value)
        value = float(_num(value))
    if value != value:
        return "NaN"
    if value in (_INF, -_INF):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent_text = text.split("e")
    exponent = int(exponent_text)
    # JavaScript writes plain decimals for 1e-7 < |x| < 1e21 and an unpadded exponent beyond.
    if -7 < exponent < 21:
        return format(Decimal(text), "f")
    return f"{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def _to_string(value: Any, depth: int = 0) -> str:
    kind = type(value)
    if kind is str:
        return str(value)
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return _number_to_string(value)
    if kind is list or kind is tuple:
        if depth >= MAX_DEPTH:
            raise _error(f"array nested deeper than {MAX_DEPTH} levels")
        return ",".join(
            "" if item is None or item is UNDEFINED else _to_string(item, depth + 1)
            for item in value
        )
    # Never str() an arbitrary Python object: its __str__ is not ours to run or expose.
    return "[object Object]"


def _to_primitive(value: Any) -> Any:
    kind = type(value)
    if kind is list or kind is tuple:
        return _to_string(value)
    if kind is dict or isinstance(value, Mapping):
        return "[object Object]"
    return value


def _to_property_key(value: Any) -> str:
    return value if type(value) is str else _to_string(value)


def _truthy(value: Any) -> bool:
    if value is True:
        return True
    if value is False or value is None or value is UNDEFINED:
        return False
    kind = type(value)
    if kind is str:
        return bool(value != "")
    if kind is int:
        return bool(value != 0)
    if kind is float:
        return bool(value == value and value != 0.0)
    return True


def _typeof(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    kind = type(value)
    if kind is bool:
        return "boolean"
    if kind is int or kind is float:
        return "number"
    if kind is str:
        return "string"
    return "object"


def _check_length(text: str) -> str:
    if len(text) > MAX_STRING_LENGTH:
        raise _error(f"string result longer than {MAX_STRING_LENGTH} characters")
    return text


def _describe(value: Any) -> str:
    return "null" if value is None else "undefined" if value is UNDEFINED else _typeof(value)


def _array_index(key: Any) -> int | None:
    kind = type(key)
    if kind is int:
        return int(key)
    if kind is float:
        return int(key) if key.is_integer() else None
    text = _to_property_key(key)
    if text.isascii() and text.isdigit() and (text == "0" or text[0] != "0"):
        return int(text)
    return None


def _get_member(target: Any, key: Any, pos: int) -> Any:
    kind = type(target)
    if kind is dict:
        return target.get(key if type(key) is str else _to_property_key(key), UNDEFINED)
    if kind is list or kind is tuple or kind is str:
        index = _array_index(key)
        if index is not None:
            return target[index] if 0 <= index < len(target) else UNDEFINED
        if _to_property_key(key) == "length":
            return len(target)
        return UNDEFINED
    if target is None or target is UNDEFINED:
        raise _error(
            f"cannot read property {_to_property_key(key)!r} of {_describe(target)} (at {pos})",
            pos,
        )
    if isinstance(target, Mapping):
        return target.get(_to_property_key(key), UNDEFINED)
    # Numbers, booleans and any other Python object: never their attributes.
    return UNDEFINED


def _strict_equals(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)  # NaN is not equal to itself, as in JavaScript
    if left is right:
        return True
    if type(left) is str and type(right) is str:
        return bool(left == right)
    return False


def _same_value_zero(left: Any, right: Any) -> bool:
    if type(left) is float and type(right) is float and left != left and right != right:
        return True
    return _strict_equals(left, right)


def _is_object(value: Any) -> bool:
    kind = type(value)
    return kind is list or kind is tuple or kind is dict or isinstance(value, Mapping)


def _loose_equals(left: Any, right: Any) -> bool:
    left_nullish = left is None or left is UNDEFINED
    right_nullish = right is None or right is UNDEFINED
    if left_nullish or right_nullish:
        return left_nullish and right_nullish
    if type(left) is bool:
        return _loose_equals(_to_number(left), right)
    if type(right) is bool:
        return _loose_equals(left, _to_number(right))
    left_object, right_object = _is_object(left), _is_object(right)
    if left_object and right_object:
        return left is right
    if left_object:
        return _loose_equals(_to_primitive(left), right)
    if right_object:
        return _loose_equals(left, _to_primitive(right))
    if _is_number(left) and type(right) is str:
        return bool(left == _string_to_number(right))
    if type(left) is str and _is_number(right):
        return bool(_string_to_number(left) == right)
    return _strict_equals(left, right)
