"""A contract: the JSON Schemas of one task type, workflow or event type, at one version.

The same JSON shape is used in a repository's contract folder, in the registry's API and in
the store::

    {"kind": "task", "name": "charge_payment", "version": "1.2.0", "service": "payments",
     "input": {...JSON Schema...}, "output": {...JSON Schema...}}

Events carry a ``payload`` schema instead of ``input``/``output``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from podium.dsl.bounds import INT4_MAX
from podium.errors import ValidationError

__all__ = [
    "KINDS",
    "SCHEMA_PARTS",
    "Contract",
    "Kind",
    "SemVer",
    "parse_contract",
    "parse_semver",
]

Kind = Literal["task", "workflow", "event"]
KINDS: tuple[Kind, ...] = ("task", "workflow", "event")
SCHEMA_PARTS: dict[str, tuple[str, ...]] = {
    "task": ("input", "output"),
    "workflow": ("input", "output"),
    "event": ("payload",),
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_TEXT_FIELDS = ("service", "owner", "description")


@dataclass(frozen=True, slots=True, order=True)
class SemVer:
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def parts(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


def parse_semver(text: Any, field: str = "version") -> SemVer:
    """``"1.2.0"`` as a SemVer; anything else is a ValidationError naming ``field``."""
    match = _SEMVER.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationError(
            f'{field} must be a version MAJOR.MINOR.PATCH such as "1.0.0", not {text!r}',
            service="contracts",
            field=field,
        )
    # Each part is a 32-bit column (versions are ordered by them); the length is checked
    # first, as a number thousands of digits long is slow, or refused, to convert.
    too_long = any(len(match[i]) > 10 for i in (1, 2, 3))
    parts = (0, 0, 0) if too_long else (int(match[1]), int(match[2]), int(match[3]))
    if too_long or max(parts) > INT4_MAX:
        raise ValidationError(
            f"{field}: each part of {text!r} must be at most {INT4_MAX}",
            service="contracts",
            field=field,
        )
    return SemVer(*parts)


@dataclass(frozen=True, slots=True)
class Contract:
    """One version of a contract. Schemas are plain JSON Schema 2020-12 documents."""

    kind: Kind
    name: str
    version: SemVer
    schemas: dict[str, dict[str, Any]]
    service: str | None = None
    owner: str | None = None
    description: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    @property
    def label(self) -> str:
        return f"{self.kind} contract '{self.name}' v{self.version}"

    def schema(self, part: str) -> dict[str, Any] | None:
        return self.schemas.get(part)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind, "name": self.name, "version": str(self.version)}
        for field in _TEXT_FIELDS:
            value = getattr(self, field)
            if value is not None:
                body[field] = value
        body.update(self.schemas)
        return body


def parse_contract(data: Any, where: str = "") -> Contract:
    """Check ``data`` is a contract and return it; a ValidationError names the bad field.

    ``where`` prefixes field names (``[2]`` for the third item of a list, or a file name).
    """

    def fail(field: str, message: str) -> ValidationError:
        name = f"{where}.{field}" if where and field else (where or field)
        return ValidationError(f"{name}: {message}", service="contracts", field=name)

    if not isinstance(data, dict):
        raise fail("", "a contract must be a JSON object")
    kind = data.get("kind")
    if kind not in KINDS:
        raise fail("kind", f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail("name", f"name must be letters, digits, '_', '.' or '-', not {name!r}")
    try:
        version = parse_semver(data.get("version"))
    except ValidationError as exc:
        raise fail("version", exc.message) from None
    parts = SCHEMA_PARTS[kind]
    known = {"kind", "name", "version", *_TEXT_FIELDS, *parts}
    unknown = sorted(set(data) - known)
    if unknown:
        raise fail(
            unknown[0], f"unknown field for a {kind} contract (known: {', '.join(sorted(known))})"
        )
    texts: dict[str, str | None] = {}
    for field in _TEXT_FIELDS:
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise fail(field, f"{field} must be a string")
        texts[field] = value
    schemas: dict[str, dict[str, Any]] = {}
    for part in parts:
        if part in data:
            schemas[part] = _checked_schema(data[part], part, fail)
    if not schemas:
        raise fail(parts[0], f"a {kind} contract needs at least one of: {', '.join(parts)}")
    return Contract(
        kind=cast(Kind, kind),
        name=name,
        version=version,
        schemas=schemas,
        service=texts["service"],
        owner=texts["owner"],
        description=texts["description"],
    )


def _checked_schema(schema: Any, part: str, fail: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise fail(part, "a schema must be a JSON object")
    dialect = schema.get("$schema")
    if dialect is not None and dialect.rstrip("#") != DIALECT:
        raise fail(f"{part}.$schema", f"only JSON Schema 2020-12 ({DIALECT}) is supported")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = ".".join(str(p) for p in exc.absolute_path)
        raise fail(
            f"{part}.{path}" if path else part, f"not a valid JSON Schema: {exc.message}"
        ) from None
    result: dict[str, Any] = schema
    return result
