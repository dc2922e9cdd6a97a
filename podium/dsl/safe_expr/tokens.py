"""The safe evaluator's tokenizer, and the hints for JavaScript it does not support."""

from __future__ import annotations

import re
from typing import Any, Final, NamedTuple

from podium.dsl.safe_expr.values import UNDEFINED, _error, _num

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
