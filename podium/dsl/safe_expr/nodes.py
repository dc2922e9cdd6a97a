"""The syntax tree the parser builds; each node evaluates itself against the bindings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.dsl.safe_expr.operators import _BINARY_FUNCTIONS, _call_method
from podium.dsl.safe_expr.values import (
    MAX_DEPTH,
    UNDEFINED,
    _error,
    _get_member,
    _num,
    _to_number,
    _truthy,
    _typeof,
)

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
