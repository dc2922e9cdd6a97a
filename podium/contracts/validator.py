"""Validating a payload against a schema: compiled validators and readable violations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaViolation

__all__ = ["Violation", "compile_schema", "json_path", "violations"]

_MAX_TEXT = 160
_FORMATS = FormatChecker()
_UNEXPECTED = re.compile(r"\('([^']*)'")


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a payload breaks a schema: where (``$.items[0].sku``) and what."""

    path: str
    message: str
    keyword: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def compile_schema(schema: dict[str, Any]) -> Draft202012Validator:
    """A reusable validator; formats (email, uuid, date, ...) are checked, not just noted."""
    return Draft202012Validator(schema, format_checker=_FORMATS)


def json_path(parts: Iterable[str | int]) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            path += "[" + repr(part).replace("'", '"') + "]"
    return path


def violations(validator: Draft202012Validator, instance: Any) -> list[Violation]:
    """Every violation, ordered by where it is, each naming the offending field itself."""
    found = [_violation(error) for error in validator.iter_errors(instance)]
    return sorted(found, key=lambda v: (v.path, v.keyword, v.message))


def _violation(error: SchemaViolation) -> Violation:
    parts: list[str | int] = list(error.absolute_path)
    keyword = str(error.validator)
    # For these keywords jsonschema points at the enclosing object; the field at fault is a
    # member of it, and that is what a reader needs to find.
    required = error.validator_value
    if keyword == "required" and isinstance(error.instance, dict) and isinstance(required, list):
        for name in required:
            if name not in error.instance and error.message.startswith(repr(name)):
                parts.append(name)
                break
    elif "propertyNames" in error.schema_path and isinstance(error.instance, str):
        parts.append(error.instance)  # the name itself is what is wrong
        keyword = "propertyNames"
    elif keyword in ("additionalProperties", "unevaluatedProperties"):
        match = _UNEXPECTED.search(error.message)
        if match:
            parts.append(match[1])
    message = error.message
    if len(message) > _MAX_TEXT:
        message = message[: _MAX_TEXT - 3] + "..."
    return Violation(json_path(parts), message, keyword)
