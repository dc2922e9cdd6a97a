"""The safe evaluator's parser: tokens to a syntax tree of :mod:`.nodes`."""

from __future__ import annotations

from podium.dsl.expressions import ExpressionError
from podium.dsl.safe_expr.nodes import (
    _Array,
    _Binary,
    _Call,
    _Conditional,
    _Index,
    _Literal,
    _Logical,
    _Member,
    _Name,
    _Node,
    _Object,
    _Unary,
)
from podium.dsl.safe_expr.operators import _BINDING_POWER, _LOGICAL_OPERATORS, _TERNARY_POWER
from podium.dsl.safe_expr.tokens import (
    _HINT_CALL,
    _KEYWORD_HINTS,
    _LITERAL_NAMES,
    _METHODS,
    _PUNCT_HINTS,
    _Token,
)
from podium.dsl.safe_expr.values import MAX_DEPTH, _error, _to_string

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
