"""Reading a JSON Schema statically: what a field path leads to, and what types it may hold.

Used to check a workflow's ``${ref.output.x}`` references against the producing contract
before anything runs; a path comes split by the one ``${}`` parser,
``dsl.expressions.reference_segments``, so ``['a-b']`` is the key ``a-b`` here as it is when
the run resolves it. Only local ``$ref``s (``#/$defs/...``) are followed; anything this does
not understand counts as "allowed, type unknown", so a check never rejects a valid workflow
for the reader's own lack of insight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Lookup", "accepts", "json_type", "lookup", "types_of"]

Segment = str | int
_COMBINATORS = ("allOf", "anyOf", "oneOf")


@dataclass(frozen=True, slots=True)
class Lookup:
    """Where a path leads: a schema (``None`` when allowed but undeclared) or a refusal."""

    schema: dict[str, Any] | None
    refused: str | None = None


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 20:
        ref: str = schema["$ref"]
        if not ref.startswith("#"):
            return {}
        target: Any = root
        for part in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return {}
            target = target[part]
        schema = target
        seen += 1
    return schema


def types_of(schema: Any, root: dict[str, Any] | None = None) -> set[str] | None:
    """The JSON types a value of ``schema`` may have, or None when not declared."""
    schema = _resolve(schema, root or (schema if isinstance(schema, dict) else {}))
    if not isinstance(schema, dict):
        return None
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {str(t) for t in declared}
    if "const" in schema:
        return {json_type(schema["const"])}
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return {json_type(value) for value in schema["enum"]}
    for word in ("anyOf", "oneOf"):
        branches = schema.get(word)
        if isinstance(branches, list) and branches:
            found: set[str] = set()
            for branch in branches:
                some = types_of(branch, root)
                if some is None:
                    return None
                found |= some
            return found
    return None


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def accepts(consumer: set[str], produced: set[str]) -> set[str]:
    """The produced types ``consumer`` does not accept (an integer is a number)."""
    return {
        t for t in produced if t not in consumer and not (t == "integer" and "number" in consumer)
    }


def lookup(schema: dict[str, Any], path: list[Segment]) -> Lookup:
    """Follow ``path`` from ``schema``: the sub-schema it names, or why it cannot exist."""
    current: Any = schema
    walked = ""
    for segment in path:
        current = _resolve(current, schema)
        here = f"{walked}.{segment}" if isinstance(segment, str) else f"{walked}[{segment}]"
        step = _step(current, segment, schema)
        if step.refused is not None:
            where = f"'{walked.lstrip('.')}'" if walked else "the payload"
            return Lookup(None, f"{where} {step.refused}")
        if step.schema is None:
            return Lookup(None)
        current = step.schema
        walked = here
    resolved = _resolve(current, schema)
    return Lookup(resolved if isinstance(resolved, dict) else None)


def _step(schema: Any, segment: Segment, root: dict[str, Any]) -> Lookup:
    if schema is True or schema == {}:
        return Lookup(None)
    if schema is False:
        return Lookup(None, "allows no value at all")
    if not isinstance(schema, dict):
        return Lookup(None)
    types = types_of(schema, root)
    wanted = "object" if isinstance(segment, str) else "array"
    if types is not None and wanted not in types:
        kind = "/".join(sorted(types))
        return Lookup(None, f"is declared as {kind}, so it has no {_name(segment)}")
    if isinstance(segment, str):
        found = _property(schema, segment, root)
    else:
        found = _item(schema, segment)
    if found.schema is not None or found.refused is not None:
        return found
    for word in _COMBINATORS:
        branches = schema.get(word)
        if isinstance(branches, list):
            for branch in branches:
                inner = _step(_resolve(branch, root), segment, root)
                if inner.schema is not None:
                    return inner
    return found


def _name(segment: Segment) -> str:
    return f"field '{segment}'" if isinstance(segment, str) else f"item [{segment}]"


def _property(schema: dict[str, Any], key: str, root: dict[str, Any]) -> Lookup:
    properties = schema.get("properties")
    if isinstance(properties, dict) and key in properties:
        if properties[key] is False:
            return Lookup(None, f"forbids field '{key}'")
        return Lookup(_as_schema(properties[key]))
    patterns = schema.get("patternProperties")
    if isinstance(patterns, dict):
        for pattern, sub in patterns.items():
            if re.search(pattern, key):
                return Lookup(_as_schema(sub))
    for word in ("additionalProperties", "unevaluatedProperties"):
        extra = schema.get(word)
        if extra is False:
            return Lookup(None, f"declares no field '{key}' and allows no others ({word}: false)")
        if isinstance(extra, dict):
            return Lookup(_as_schema(extra))
    return Lookup(None)


def _item(schema: dict[str, Any], index: int) -> Lookup:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        return Lookup(_as_schema(prefix[index]))
    items = schema.get("items")
    if items is False:
        return Lookup(None, f"allows no item [{index}] (items: false)")
    if isinstance(items, dict):
        return Lookup(_as_schema(items))
    return Lookup(None)


def _as_schema(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and value:
        return value
    return None
