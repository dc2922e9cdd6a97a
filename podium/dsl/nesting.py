"""How deep a JSON value nests, measured without recursion.

Podium writes every run as one JSON document, and its encoder (orjson) refuses documents more
than 255 levels deep. A value a run takes in or makes (a request body, a worker's output, a
script's result, a task's resolved input) is therefore held to a much smaller depth, so that
the run around it, which adds its own few levels, can always be written. The walk keeps its own
stack: a value nested tens of thousands of levels deep costs a loop, not Python's recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["DEFAULT_MAX_DEPTH", "LARGEST_MAX_DEPTH", "deeper_than", "render_path"]

DEFAULT_MAX_DEPTH = 64
"""Levels of objects and arrays a value may have: ``{"a": [1]}`` has two."""
LARGEST_MAX_DEPTH = 100
"""The most ``PODIUM_MAX_JSON_DEPTH`` may be: a task's input nests a value of this depth inside
a template of the same depth, and the run's document adds a few levels around both; all of it
must stay under the encoder's 255."""

Path = tuple[str | int, ...]


def _children(value: dict[str, Any] | list[Any]) -> Iterator[tuple[str | int, Any]]:
    return iter(value.items()) if isinstance(value, dict) else enumerate(value)


def deeper_than(value: Any, limit: int) -> Path | None:
    """The path to the first object or array of ``value`` past ``limit`` levels, or None."""
    if not isinstance(value, dict | list):
        return None
    path: list[str | int] = []
    stack = [_children(value)]
    while stack:
        for key, child in stack[-1]:
            if isinstance(child, dict | list):
                if len(stack) >= limit:
                    return (*path, key)
                path.append(key)
                stack.append(_children(child))
                break
        else:
            stack.pop()
            if path:
                path.pop()
    return None


def render_path(prefix: str, path: Path, *, longest: int = 6) -> str:
    """``prefix`` and ``path`` as ``input.a[0].b``; past ``longest`` parts, ``...`` ends it."""
    text = prefix
    for part in path[:longest]:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text + ("..." if len(path) > longest else "")
