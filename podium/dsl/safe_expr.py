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
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, NamedTuple

from podium.dsl.expressions import ExpressionError

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


# ---------------------------------------------------------------------------------------------
# Tokens


class _Token(NamedTuple):
    kind: str  # "num", "str", "name", "punct" or "eof"
    text: str  # the source text, for error messages
    value: Any
    pos: int


_PUNCTUATORS: Final[tuple[frozenset[str], ...]] = (
    frozenset({">>>="}),
    frozenset("=== !== **= ... <<= >>= >>> &&= ||= ??=".split()),
    frozenset("=> == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |= ^= ** << >>".split()),
    frozenset("{}()[];,<>+-*/%&|^!~?:=."),
)
_NUMBER_RE: Final = re.compile(
    r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
)
_NAME_RE: Final = re.compile(r"(?:[^\W\d]|\$)(?:\w|\$)*")
_WHITESPACE: Final = frozenset(" \t\n\r\v\f\u00a0\ufeff\u2028\u2029")
_ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
}

_HINT_STATEMENT: Final = "statements such as if, for, while and return are not supported"
_HINT_FUNCTION: Final = (
    "function definitions are not supported, except the wrappers "
    "'(function(){ return EXPR; })()' and 'function f() { return EXPR; } f();'"
)
_HINT_ASSIGNMENT: Final = "assignment is not supported"
_HINT_BITWISE: Final = "bitwise operators are not supported"
_METHODS: Final = {
    # name -> most arguments accepted (JavaScript's optional positions are not supported)
    "includes": 1,
    "indexOf": 1,
    "startsWith": 1,
    "endsWith": 1,
    "toUpperCase": 0,
    "toLowerCase": 0,
    "trim": 0,
}
_HINT_CALL: Final = "calls are limited to the methods " + ", ".join(_METHODS)

_KEYWORD_HINTS: Final = {
    "function": _HINT_FUNCTION,
    "var": "variable declarations are not supported",
    "let": "variable declarations are not supported",
    "const": "variable declarations are not supported",
    "if": _HINT_STATEMENT,
    "else": _HINT_STATEMENT,
    "for": _HINT_STATEMENT,
    "while": _HINT_STATEMENT,
    "do": _HINT_STATEMENT,
    "switch": _HINT_STATEMENT,
    "case": _HINT_STATEMENT,
    "default": _HINT_STATEMENT,
    "break": _HINT_STATEMENT,
    "continue": _HINT_STATEMENT,
    "return": _HINT_STATEMENT,
    "throw": _HINT_STATEMENT,
    "try": _HINT_STATEMENT,
    "catch": _HINT_STATEMENT,
    "finally": _HINT_STATEMENT,
    "new": "object construction with 'new' is not supported",
    "this": "'this' is not available; use the bound names such as '$'",
    "class": "classes are not supported",
    "delete": "'delete' is not supported",
    "void": "'void' is not supported",
    "in": "the 'in' operator is not supported",
    "instanceof": "'instanceof' is not supported",
    "import": "modules are not supported",
    "export": "modules are not supported",
    "yield": "generators and async functions are not supported",
    "await": "generators and async functions are not supported",
    "async": "generators and async functions are not supported",
    "with": "'with' is not supported",
    "debugger": "'debugger' is not supported",
    "super": "'super' is not supported",
    "enum": "'enum' is not supported",
}
_PUNCT_HINTS: Final = {
    **dict.fromkeys(
        ["=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=", ">>=", ">>>=", "&=", "|=", "^="],
        _HINT_ASSIGNMENT,
    ),
    **dict.fromkeys(["&&=", "||=", "??="], _HINT_ASSIGNMENT),
    "++": "increment and decrement are not supported",
    "--": "increment and decrement are not supported",
    "=>": "arrow functions are not supported",
    "...": "spread syntax is not supported",
    **dict.fromkeys(["&", "|", "^", "~", "<<", ">>", ">>>"], _HINT_BITWISE),
    "**": "exponentiation is not supported",
    "?.": "optional chaining is not supported; use 'a && a.b' or '??'",
    ";": "only one expression is allowed",
}
_LITERAL_NAMES: Final = {"true": True, "false": False, "null": None, "undefined": UNDEFINED}


def _error(message: str, pos: int | None = None) -> ExpressionError:
    return ExpressionError(message, field="expression", position=pos)


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    length = len(source)
    while True:
        # Whitespace and comments.
        while pos < length:
            char = source[pos]
            if char in _WHITESPACE:
                pos += 1
            elif source.startswith("//", pos):
                newline = source.find("\n", pos)
                pos = length if newline < 0 else newline + 1
            elif source.startswith("/*", pos):
                end = source.find("*/", pos + 2)
                if end < 0:
                    raise _error(f"invalid expression at {pos}: unterminated comment", pos)
                pos = end + 2
            else:
                break
        if pos >= length:
            tokens.append(_Token("eof", "", None, pos))
            return tokens
        char = source[pos]
        if "0" <= char <= "9" or (char == "." and "0" <= source[pos + 1 : pos + 2] <= "9"):
            tokens.append(_read_number(source, pos))
        elif char == "'" or char == '"':
            tokens.append(_read_string(source, pos))
        elif (match := _NAME_RE.match(source, pos)) is not None:
            tokens.append(_Token("name", match.group(), match.group(), pos))
        elif char == "`":
            raise _error(
                f"unsupported JavaScript at {pos}: '`' (Podium evaluates expressions only: "
                "template literals are not supported; use '+')",
                pos,
            )
        else:
            for size, group in zip((4, 3, 2, 1), _PUNCTUATORS, strict=True):
                text = source[pos : pos + size]
                if text in group:
                    # `a?.5:1` is a ternary, not optional chaining.
                    if text == "?." and source[pos + 2 : pos + 3].isdigit():
                        continue
                    tokens.append(_Token("punct", text, text, pos))
                    break
            else:
                raise _error(f"invalid expression at {pos}: unexpected character {char!r}", pos)
        pos += len(tokens[-1].text)


def _read_number(source: str, pos: int) -> _Token:
    match = _NUMBER_RE.match(source, pos)
    assert match is not None  # the caller saw a digit
    text = match.group()
    after = source[match.end() : match.end() + 1]
    if after and (after.isalnum() or after in "_$."):
        raise _error(
            f"invalid expression at {pos}: invalid number {source[pos : match.end() + 1]!r}", pos
        )
    prefix = text[:2].lower()
    value: int | float
    if prefix in ("0x", "0o", "0b"):
        value = int(text[2:], {"0x": 16, "0o": 8, "0b": 2}[prefix])
    elif "." in text or "e" in text or "E" in text:
        value = float(text)
    else:
        value = int(text)
    return _Token("num", text, _num(value), pos)


def _read_string(source: str, start: int) -> _Token:
    quote = source[start]
    chars: list[str] = []
    pos = start + 1
    length = len(source)
    while True:
        if pos >= length or source[pos] in "\n\r":
            raise _error(f"invalid expression at {start}: unterminated string", start)
        char = source[pos]
        if char == quote:
            pos += 1
            break
        if char != "\\":
            chars.append(char)
            pos += 1
            continue
        escaped = source[pos + 1 : pos + 2]
        if escaped == "":
            raise _error(f"invalid expression at {start}: unterminated string", start)
        if escaped in _ESCAPES:
            chars.append(_ESCAPES[escaped])
            pos += 2
        elif escaped == "x" or escaped == "u":
            if escaped == "u" and source[pos + 2 : pos + 3] == "{":
                end = source.find("}", pos + 3)
                digits = source[pos + 3 : end] if end > 0 else ""
                consumed = end + 1 - pos
            else:
                size = 2 if escaped == "x" else 4
                digits = source[pos + 2 : pos + 2 + size]
                consumed = 2 + size
                if len(digits) != size:
                    digits = ""
            try:
                code = int(digits, 16) if digits.isascii() and digits.isalnum() else -1
                chars.append(chr(code))
            except ValueError:
                raise _error(f"invalid expression at {pos}: invalid escape sequence", pos) from None
            pos += consumed
        elif escaped == "\r" and source[pos + 2 : pos + 3] == "\n":
            pos += 3  # line continuation
        elif escaped in "\n\r\u2028\u2029":
            pos += 2  # line continuation
        else:
            # JavaScript keeps the character of an unknown escape: '\q' is 'q'.
            chars.append(escaped)
            pos += 2
    value = "".join(chars)
    return _Token("str", source[start:pos], value, start)


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


# ---------------------------------------------------------------------------------------------
# Syntax tree: each node evaluates itself against the bindings.


class _Node:
    __slots__ = ("depth", "pos")
    depth: int
    pos: int

    def __init__(self, pos: int, *children: _Node) -> None:
        self.pos = pos
        self.depth = 1 + max((child.depth for child in children), default=0)
        # Left-associative chains (`1+1+1...`) grow deep without deep parsing; evaluation
        # recurses, so the tree's depth is what must be bounded.
        if self.depth > MAX_DEPTH:
            raise _error(f"expression nested too deeply at {pos} (at most {MAX_DEPTH} levels)", pos)

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        raise NotImplementedError


class _Literal(_Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: Any) -> None:
        super().__init__(pos)
        self.value = value

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        return self.value


class _Name(_Node):
    __slots__ = ("name",)

    def __init__(self, pos: int, name: str) -> None:
        super().__init__(pos)
        self.name = name

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        try:
            return env[self.name]
        except KeyError:
            raise _error(f"{self.name!r} is not defined (at {self.pos})", self.pos) from None


class _Member(_Node):
    __slots__ = ("key", "target")

    def __init__(self, pos: int, target: _Node, key: str) -> None:
        super().__init__(pos, target)
        self.target = target
        self.key = key

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        return _get_member(self.target.evaluate(env), self.key, self.pos)


class _Index(_Node):
    __slots__ = ("key", "target")

    def __init__(self, pos: int, target: _Node, key: _Node) -> None:
        super().__init__(pos, target, key)
        self.target = target
        self.key = key

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        target = self.target.evaluate(env)
        return _get_member(target, self.key.evaluate(env), self.pos)


class _Call(_Node):
    __slots__ = ("args", "name", "target")

    def __init__(self, pos: int, target: _Node, name: str, args: list[_Node]) -> None:
        super().__init__(pos, target, *args)
        self.target = target
        self.name = name
        self.args = args

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        receiver = self.target.evaluate(env)
        args = [arg.evaluate(env) for arg in self.args]
        return _call_method(receiver, self.name, args, self.pos)


class _Array(_Node):
    __slots__ = ("items",)

    def __init__(self, pos: int, items: list[_Node]) -> None:
        super().__init__(pos, *items)
        self.items = items

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        values = [item.evaluate(env) for item in self.items]
        # undefined becomes null, as JSON.stringify writes it in arrays.
        return [None if value is UNDEFINED else value for value in values]


class _Object(_Node):
    __slots__ = ("entries",)

    def __init__(self, pos: int, entries: list[tuple[str, _Node]]) -> None:
        super().__init__(pos, *(value for _, value in entries))
        self.entries = entries

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        result: dict[str, Any] = {}
        for key, node in self.entries:
            value = node.evaluate(env)
            # undefined members are left out, as JSON.stringify does.
            if value is UNDEFINED:
                result.pop(key, None)
            else:
                result[key] = value
        return result


class _Unary(_Node):
    __slots__ = ("operand", "operator")

    def __init__(self, pos: int, op: str, operand: _Node) -> None:
        super().__init__(pos, operand)
        self.operator = op
        self.operand = operand

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        op = self.operator
        if op == "typeof":
            # typeof of an unbound name is "undefined" in JavaScript, not an error.
            if isinstance(self.operand, _Name) and self.operand.name not in env:
                return "undefined"
            return _typeof(self.operand.evaluate(env))
        value = self.operand.evaluate(env)
        if op == "!":
            return not _truthy(value)
        number = _to_number(value)
        return _num(-number) if op == "-" else number


class _Binary(_Node):
    __slots__ = ("function", "left", "right")

    def __init__(self, pos: int, op: str, left: _Node, right: _Node) -> None:
        super().__init__(pos, left, right)
        self.function = _BINARY_FUNCTIONS[op]
        self.left = left
        self.right = right

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        return self.function(self.left.evaluate(env), self.right.evaluate(env))


class _Logical(_Node):
    __slots__ = ("left", "operator", "right")

    def __init__(self, pos: int, op: str, left: _Node, right: _Node) -> None:
        super().__init__(pos, left, right)
        self.operator = op
        self.left = left
        self.right = right

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        value = self.left.evaluate(env)
        op = self.operator
        if op == "&&":
            return self.right.evaluate(env) if _truthy(value) else value
        if op == "||":
            return value if _truthy(value) else self.right.evaluate(env)
        return self.right.evaluate(env) if value is None or value is UNDEFINED else value


class _Conditional(_Node):
    __slots__ = ("otherwise", "test", "then")

    def __init__(self, pos: int, test: _Node, then: _Node, otherwise: _Node) -> None:
        super().__init__(pos, test, then, otherwise)
        self.test = test
        self.then = then
        self.otherwise = otherwise

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        if _truthy(self.test.evaluate(env)):
            return self.then.evaluate(env)
        return self.otherwise.evaluate(env)


# ---------------------------------------------------------------------------------------------
# Parser: recursive descent for primaries, Pratt binding powers for binary operators.


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        # JavaScript forbids mixing ?? with && or || unless one side is parenthesised.
        self.parenthesised: set[int] = set()

    # Token helpers

    def peek(self, offset: int = 0) -> _Token:
        index = min(self.index + offset, len(self.tokens) - 1)
        return self.tokens[index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at(self, text: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind in ("punct", "name") and token.text == text

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.advance()
            return True
        return False

    def expect(self, text: str) -> _Token:
        if not self.at(text):
            raise self.fail(self.peek(), f"'{text}'")
        return self.advance()

    def fail(self, token: _Token, expected: str | None = None) -> ExpressionError:
        hint = None
        if token.kind == "name":
            hint = _KEYWORD_HINTS.get(token.text)
        elif token.kind == "punct":
            hint = _PUNCT_HINTS.get(token.text)
        if hint is not None:
            return _unsupported(token, hint)
        if token.kind == "eof":
            message = f"invalid expression at {token.pos}: unexpected end of expression"
        else:
            message = f"invalid expression at {token.pos}: unexpected {token.text!r}"
        if expected:
            message += f", expected {expected}"
        return _error(message, token.pos)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(
                f"expression nested too deeply at {token.pos} (at most {MAX_DEPTH} levels)",
                token.pos,
            )

    # Program

    def parse_program(self) -> _Node:
        if all(self.at(text, offset) for offset, text in enumerate(("(", "function", "(", ")"))):
            node = self.parse_wrapped_function()
        elif (
            self.at("function")
            and self.peek(1).kind == "name"
            and self.at("(", 2)
            and self.at(")", 3)
        ):
            node = self.parse_declared_function()
        else:
            node = self.parse_expression(0)
            semicolon = self.peek()
            if self.accept(";") and self.peek().kind != "eof":
                raise _unsupported(semicolon, "only one expression is allowed")
        token = self.peek()
        if token.kind != "eof":
            if token.text == ",":
                raise _unsupported(token, "the comma operator is not supported")
            raise self.fail(token, "end of expression")
        return node

    def parse_function_body(self) -> _Node:
        """``{ return EXPR; }``, the only body a wrapper may have."""
        self.expect("{")
        token = self.peek()
        if not (token.kind == "name" and token.text == "return"):
            raise self.fail(token, "'return'")
        self.advance()
        node = self.parse_expression(0)
        self.accept(";")
        self.expect("}")
        return node

    def parse_wrapped_function(self) -> _Node:
        """``(function(){ return EXPR; })()`` or ``(function(){ return EXPR; }())``."""
        for text in ("(", "function", "(", ")"):
            self.expect(text)
        node = self.parse_function_body()
        if self.accept(")"):
            self.expect("(")
            self.expect(")")
        else:
            self.expect("(")
            self.expect(")")
            self.expect(")")
        self.accept(";")
        return node

    def parse_declared_function(self) -> _Node:
        """``function f() { return EXPR; } f();``."""
        self.expect("function")
        name = self.advance().text
        self.expect("(")
        self.expect(")")
        node = self.parse_function_body()
        self.accept(";")
        token = self.peek()
        if not (token.kind == "name" and token.text == name):
            raise self.fail(token, f"the call '{name}()'")
        self.advance()
        self.expect("(")
        self.expect(")")
        self.accept(";")
        return node

    # Expressions

    def parse_expression(self, min_power: int) -> _Node:
        self.enter(self.peek())
        left = self.parse_unary()
        while True:
            token = self.peek()
            if token.kind != "punct":
                break
            op = token.text
            power = _BINDING_POWER.get(op)
            if power is not None:
                if power <= min_power:
                    break
                self.advance()
                right = self.parse_expression(power)
                left = self.make_binary(token, left, right)
            elif op == "?" and _TERNARY_POWER > min_power:
                self.advance()
                then = self.parse_expression(0)
                self.expect(":")
                # Right-associative: `a ? b : c ? d : e` nests in the else branch.
                otherwise = self.parse_expression(_TERNARY_POWER - 1)
                left = _Conditional(token.pos, left, then, otherwise)
            else:
                break
        self.depth -= 1
        return left

    def make_binary(self, token: _Token, left: _Node, right: _Node) -> _Node:
        op = token.text
        if op not in _LOGICAL_OPERATORS:
            return _Binary(token.pos, op, left, right)
        for side in (left, right):
            if (
                isinstance(side, _Logical)
                and id(side) not in self.parenthesised
                and (side.operator == "??") != (op == "??")
            ):
                raise _error(
                    f"invalid expression at {token.pos}: '??' cannot be mixed with '&&' or "
                    "'||' without parentheses",
                    token.pos,
                )
        return _Logical(token.pos, op, left, right)

    def parse_unary(self) -> _Node:
        token = self.peek()
        if (token.kind == "punct" and token.text in ("!", "-", "+")) or (
            token.kind == "name" and token.text == "typeof"
        ):
            self.advance()
            self.enter(token)
            operand = self.parse_unary()
            self.depth -= 1
            return _Unary(token.pos, token.text, operand)
        return self.parse_postfix(self.parse_primary())

    def parse_primary(self) -> _Node:
        token = self.advance()
        kind = token.kind
        if kind == "num" or kind == "str":
            return _Literal(token.pos, token.value)
        if kind == "name":
            if token.text in _LITERAL_NAMES:
                return _Literal(token.pos, _LITERAL_NAMES[token.text])
            if token.text in _KEYWORD_HINTS:
                raise _unsupported(token, _KEYWORD_HINTS[token.text])
            return _Name(token.pos, token.text)
        if kind == "punct":
            if token.text == "(":
                node = self.parse_expression(0)
                self.expect(")")
                self.parenthesised.add(id(node))
                return node
            if token.text == "[":
                return self.parse_array(token)
            if token.text == "{":
                return self.parse_object(token)
            if token.text == "/":
                raise _unsupported(token, "regular expressions are not supported")
        raise self.fail(token, "an expression")

    def parse_array(self, start: _Token) -> _Node:
        items: list[_Node] = []
        while not self.accept("]"):
            items.append(self.parse_expression(0))
            if not self.accept(","):
                self.expect("]")
                break
        return _Array(start.pos, items)

    def parse_object(self, start: _Token) -> _Node:
        entries: list[tuple[str, _Node]] = []
        while not self.accept("}"):
            token = self.advance()
            if token.kind == "name":
                key = token.text
            elif token.kind == "str":
                key = token.value
            elif token.kind == "num":
                key = _to_string(token.value)
            elif token.kind == "punct" and token.text == "[":
                raise _unsupported(token, "computed property names are not supported")
            else:
                raise self.fail(token, "a property name")
            self.expect(":")
            entries.append((key, self.parse_expression(0)))
            if not self.accept(","):
                self.expect("}")
                break
        return _Object(start.pos, entries)

    def parse_postfix(self, node: _Node) -> _Node:
        while True:
            token = self.peek()
            if token.kind != "punct":
                return node
            if token.text == ".":
                self.advance()
                name = self.advance()
                if name.kind != "name":
                    raise self.fail(name, "a property name")
                if self.at("("):
                    node = self.parse_call(node, name)
                else:
                    node = _Member(name.pos, node, name.text)
            elif token.text == "[":
                self.advance()
                key = self.parse_expression(0)
                self.expect("]")
                node = _Index(token.pos, node, key)
            elif token.text == "(":
                raise _unsupported(token, _HINT_CALL)
            else:
                return node

    def parse_call(self, target: _Node, name: _Token) -> _Node:
        most = _METHODS.get(name.text)
        if most is None:
            raise _unsupported(name, _HINT_CALL)
        opening = self.expect("(")
        args: list[_Node] = []
        while not self.accept(")"):
            args.append(self.parse_expression(0))
            if not self.accept(","):
                self.expect(")")
                break
        if len(args) > most:
            plural = "argument" if most == 1 else "arguments"
            raise _unsupported(opening, f"'{name.text}' takes at most {most} {plural} here")
        return _Call(name.pos, target, name.text, args)


def _unsupported(token: _Token, hint: str) -> ExpressionError:
    return _error(
        f"unsupported JavaScript at {token.pos}: {token.text!r} "
        f"(Podium evaluates expressions only: {hint})",
        token.pos,
    )


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
