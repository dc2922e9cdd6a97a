"""What a script's text says about how it may be run: in a realm kept between calls, or not.

Creating a QuickJS interpreter costs about half of a short script's evaluation, and SWITCH
expressions and DO_WHILE conditions are evaluated at every step that reaches them, so a thread
keeps one interpreter for the scripts that cannot change it. A script may share it only if a
plain reading of its tokens shows that it cannot leave anything behind for the next script:
no assignment, increment or declaration that could reach a global, none of the names through
which built-ins are reached or changed (``Object``, ``constructor``, ``prototype``, ``call``,
``push``, ...), no computed member read with a key that is not a literal (a key from the inputs
could be ``"constructor"``), and no backslash, template, regular expression or division, whose
text a simple tokeniser could misread. Anything else runs in a fresh interpreter, as before:
the check may refuse a script that is harmless, never accept one that is not, and both ways
give the script the same meaning.

A shared script that is a single expression is also compiled once (``return (...)`` in a
``Function``) and kept, so its next evaluation runs the compiled code.
"""

from __future__ import annotations

import enum
import functools
import re

__all__ = ["Shape", "shape"]


class Shape(enum.Enum):
    """How a script may be run."""

    FRESH = "fresh"  # it might change the interpreter: a fresh one for each call
    SHARED = "shared"  # it cannot: the thread's interpreter, the source evaluated each time
    EXPRESSION = "expression"  # as SHARED, and it reads as one expression: compiled once


_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<comment>//[^\n]*|/\*.*?\*/)
    |(?P<string>'[^'\n]*'|"[^"\n]*")
    |(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    |(?P<denied>\+\+|--|<<|>>)
    |(?P<punct>===|!==|==|!=|<=|>=|&&|\|\||\?\?|=>|\.\.\.|[()\[\]{}.,;:?!<>+\-*%&|^~])""",
    re.VERBOSE | re.DOTALL,
)

# The ways to a built-in or to a global binding, and the methods that change the object they
# are called on (``[Math].forEach([].push, Math)`` changes Math with none of the other names).
_DENIED_NAMES = frozenset(
    {
        "Object", "Reflect", "Proxy", "Function", "eval", "globalThis", "this", "arguments",
        "constructor", "prototype", "__proto__", "__defineGetter__", "__defineSetter__",
        "__lookupGetter__", "__lookupSetter__", "defineProperty", "defineProperties",
        "setPrototypeOf", "assign", "call", "apply", "bind", "Symbol", "Promise", "RegExp",
        "WeakRef", "FinalizationRegistry", "Atomics", "SharedArrayBuffer", "async", "await",
        "yield", "import", "export", "with", "var", "let", "const", "class", "delete",
        "push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill", "copyWithin",
        "set", "add", "clear", "captureStackTrace", "prepareStackTrace", "fromAsync",
        "queueMicrotask",
    }
)  # fmt: skip
_CLOSING = {")": "(", "]": "[", "}": "{"}
_STATEMENTS = frozenset(
    {"if", "for", "while", "do", "switch", "try", "throw", "return", "break", "continue", "{"}
)
_COMPILED_SHAPES = 1024


@functools.lru_cache(maxsize=_COMPILED_SHAPES)
def shape(source: str) -> Shape:
    """How ``source`` may be run; cached, since definitions evaluate the same scripts again."""
    if "\\" in source:
        return Shape.FRESH
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        found = _TOKEN.match(source, position)
        if found is None or found.lastgroup == "denied":
            return Shape.FRESH
        position = found.end()
        kind = found.lastgroup or ""
        if kind in ("space", "comment"):
            continue
        text = found.group()
        if kind == "name" and text in _DENIED_NAMES:
            return Shape.FRESH
        if kind == "string" and text[1:-1] in _DENIED_NAMES:
            return Shape.FRESH
        tokens.append((kind, text))
    return _shape_of(tokens)


def _shape_of(tokens: list[tuple[str, str]]) -> Shape:
    balanced = True
    statements = bool(tokens) and tokens[0][1] in _STATEMENTS
    open_brackets: list[str] = []
    for index, (kind, text) in enumerate(tokens):
        before = tokens[index - 1] if index else ("", "")
        if text == "function" and before[1] != "(":
            return Shape.FRESH  # a declaration would leave a global behind
        if text == "[" and (before[0] in ("name", "string", "number") or before[1] in (")", "]")):
            # A computed member read: only a literal key, which was checked above.
            after = tokens[index + 1 : index + 3]
            if len(after) < 2 or after[0][0] not in ("string", "number") or after[1][1] != "]":
                return Shape.FRESH
        if kind == "punct" and text in ("(", "[", "{"):
            open_brackets.append(text)
        elif kind == "punct" and text in _CLOSING:
            if not open_brackets or open_brackets.pop() != _CLOSING[text]:
                balanced = False
        elif text == ";" and not open_brackets:
            statements = True
    if statements or not balanced or open_brackets or not tokens:
        return Shape.SHARED  # not one expression (``{`` would open a block, not an object)
    return Shape.EXPRESSION
