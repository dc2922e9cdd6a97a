"""Whether a new version of a schema breaks the services that rely on the old one.

Direction decides what breaks. A schema that *accepts* data (a task's or workflow's input)
breaks callers when it accepts less: a new required field, a narrowed type or enum, a tighter
bound. A schema that *produces* data (an output, an event payload) breaks consumers when it
promises less: a removed or renamed required field, a field that may now be absent, a widened
type or enum, a looser bound. Changes this module cannot analyse (``anyOf``, ``not``, ``if``...)
count as breaking, so a check never passes what it did not understand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from podium.contracts.schema_paths import types_of

__all__ = ["Change", "Direction", "diff_schemas"]

Direction = Literal["accepts", "produces"]

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_RESTRICTIONS = ("pattern", "format", "multipleOf", "uniqueItems", "contains", "propertyNames")
_UNANALYSED = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas",
               "dependentRequired", "unevaluatedItems", "unevaluatedProperties", "$ref", "$defs",
               "patternProperties", "prefixItems")  # fmt: skip
_HANDLED = frozenset(
    {"type", "enum", "const", "properties", "required", "additionalProperties", "items",
     *_LOWER, *_UPPER, *_RESTRICTIONS, *_UNANALYSED}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions, and whether it breaks anyone."""

    path: str
    breaking: bool
    message: str


def diff_schemas(old: Any, new: Any, direction: Direction, path: str = "$") -> list[Change]:
    """Every difference from ``old`` to ``new`` at and below ``path``."""
    differ = _Differ(direction)
    differ.compare(old, new, path)
    return differ.changes


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class _Differ:
    def __init__(self, direction: Direction) -> None:
        self.direction = direction
        self.changes: list[Change] = []

    def narrowed(self, path: str, message: str) -> None:
        """Fewer values are valid now: breaks callers of an input, not consumers of an output."""
        self.changes.append(Change(path, self.direction == "accepts", message))

    def widened(self, path: str, message: str) -> None:
        """More values are valid now: breaks consumers of an output, not callers of an input."""
        self.changes.append(Change(path, self.direction == "produces", message))

    def add(self, path: str, breaking: bool, message: str) -> None:
        self.changes.append(Change(path, breaking, message))

    def compare(self, old: Any, new: Any, path: str) -> None:
        if old == new:
            return
        if isinstance(old, bool) or isinstance(new, bool) or not old or not new:
            self._compare_trivial(old, new, path)
            return
        self._types(old, new, path)
        self._enum(old, new, path)
        self._bounds(old, new, path)
        self._object(old, new, path)
        self._array(old, new, path)
        for word in _UNANALYSED:
            if old.get(word) != new.get(word):
                self.add(path, True, f"'{word}' changed; this check cannot prove that safe")
        for word in sorted((set(old) | set(new)) - _HANDLED):
            if old.get(word) == new.get(word):
                continue
            if _annotation(word):
                self.add(path, False, f"{word} changed (documentation only)")
            else:
                self.add(path, True, f"'{word}' changed; this check cannot prove that safe")

    def _compare_trivial(self, old: Any, new: Any, path: str) -> None:
        old_any = old is True or old == {}
        new_any = new is True or new == {}
        if old_any and not new_any:
            self.narrowed(path, "was unconstrained, now has a schema")
        elif new_any and not old_any:
            self.widened(path, "had a schema, now unconstrained")
        elif new is False:
            self.narrowed(path, "now allows no value")
        elif old is False:
            self.widened(path, "allowed no value, now allows some")

    def _types(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        before, after = _declared_types(old), _declared_types(new)
        if before == after:
            return
        if before is None:
            self.narrowed(path, f"type now restricted to {_join(after)}")
            return
        if after is None:
            self.widened(path, f"type no longer restricted (was {_join(before)})")
            return
        lost = {t for t in before - after if not (t == "integer" and "number" in after)}
        gained = {t for t in after - before if not (t == "integer" and "number" in before)}
        if "number" in before and "number" not in after and "integer" in after:
            lost.add("number")  # only whole numbers are valid now
        shown = f"type {_join(before)} -> {_join(after)}"
        if lost and gained:
            self.add(path, True, f"{shown}: changed")
        elif lost:
            self.narrowed(path, f"{shown}: narrowed")
        elif gained:
            self.widened(path, f"{shown}: widened")

    def _enum(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        for word in ("enum", "const"):
            if old.get(word) == new.get(word):
                continue
            before = _values(old, word)
            after = _values(new, word)
            if before is None and after is not None:
                self.narrowed(path, f"now limited to {word} {_show(new[word])}")
            elif after is None and before is not None:
                self.widened(path, f"no longer limited to {word} {_show(old[word])}")
            elif before is not None and after is not None:
                lost, gained = sorted(before - after), sorted(after - before)
                if lost:
                    self.narrowed(path, f"{word} values removed: {', '.join(lost)}")
                if gained:
                    self.widened(path, f"{word} values added: {', '.join(gained)}")

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        for word in (*_LOWER, *_UPPER):
            before, after = old.get(word), new.get(word)
            if before == after:
                continue
            lower = word in _LOWER
            if after is None:
                self.widened(path, f"{word} {before} removed")
            elif before is None:
                self.narrowed(path, f"{word} {after} added")
            elif (after > before) == lower:
                self.narrowed(path, f"{word} {before} -> {after}: tighter")
            else:
                self.widened(path, f"{word} {before} -> {after}: looser")
        for word in _RESTRICTIONS:
            before, after = old.get(word), new.get(word)
            if before == after or (word == "uniqueItems" and not before and not after):
                continue
            if after is None or after is False:
                self.widened(path, f"{word} {_show(before)} removed")
            elif before is None or before is False:
                self.narrowed(path, f"{word} {_show(after)} added")
            else:
                self.add(path, True, f"{word} {_show(before)} -> {_show(after)}: changed")

    def _object(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        before_props: dict[str, Any] = old.get("properties") or {}
        after_props: dict[str, Any] = new.get("properties") or {}
        before_req = set(old.get("required") or [])
        after_req = set(new.get("required") or [])
        closed = new.get("additionalProperties") is False
        added = [name for name in after_props if name not in before_props]
        for name in before_props:
            here = _child(path, name)
            if name in after_props:
                self.compare(before_props[name], after_props[name], here)
                continue
            if self.direction == "produces" and name in before_req:
                twin = _twin(before_props[name], added, after_props)
                hint = f" (renamed to '{twin}'?)" if twin else ""
                self.add(here, True, f"required output field '{name}' removed{hint}")
            elif self.direction == "accepts" and closed:
                self.add(here, True, f"input field '{name}' removed and extra fields are refused")
            else:
                self.add(here, False, f"field '{name}' no longer declared")
        for name in added:
            required = name in after_req
            what = "required" if required else "optional"
            side = "input" if self.direction == "accepts" else "output"
            self.add(
                _child(path, name),
                required and self.direction == "accepts",
                f"new {what} {side} field '{name}'",
            )
        for name in sorted(after_req - before_req):
            if name in before_props:
                self.narrowed(_child(path, name), f"field '{name}' is now required")
            elif name not in after_props:
                self.narrowed(_child(path, name), f"undeclared field '{name}' is now required")
        for name in sorted(before_req - after_req):
            if name in after_props or name not in before_props:
                what = "may now be absent" if self.direction == "produces" else "is optional now"
                self.widened(_child(path, name), f"field '{name}' {what}")
        self._additional(old.get("additionalProperties"), new.get("additionalProperties"), path)

    def _additional(self, before: Any, after: Any, path: str) -> None:
        if before == after:
            return
        if isinstance(before, dict) and isinstance(after, dict):
            self.compare(before, after, f"{path}.*")
        elif after is False:
            self.narrowed(path, "extra (undeclared) fields are now refused")
        elif before is False:
            # Consumers are expected to ignore fields they do not know (tolerant readers).
            self.add(path, False, "extra fields are now allowed")
        else:
            self.add(path, True, "additionalProperties changed; this check cannot prove that safe")

    def _array(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        before, after = old.get("items"), new.get("items")
        if before == after:
            return
        if before is None:
            self.narrowed(f"{path}[]", "items now have a schema")
        elif after is None:
            self.widened(f"{path}[]", "items no longer have a schema")
        else:
            self.compare(before, after, f"{path}[]")


def _declared_types(schema: dict[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return types_of({"type": declared})


def _values(schema: dict[str, Any], word: str) -> set[str] | None:
    if word not in schema:
        return None
    values = schema[word] if word == "enum" else [schema[word]]
    return {_show(value) for value in values} if isinstance(values, list) else None


def _join(types: set[str] | None) -> str:
    return "|".join(sorted(types or ()))


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if name.isidentifier() else f'{path}["{name}"]'


def _twin(schema: Any, candidates: list[str], after: dict[str, Any]) -> str | None:
    """A new field that looks like the removed one (same declared type): a likely rename."""
    kind = types_of(schema)
    return next((name for name in candidates if types_of(after[name]) == kind), None)


def _annotation(word: str) -> bool:
    return word in {
        "title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly",
        "$comment", "$schema", "$id", "$anchor", "contentMediaType", "contentEncoding",
    }  # fmt: skip
