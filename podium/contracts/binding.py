"""How a definition names its contracts: Orkes Conductor's fields, plus Podium's mode.

On a TaskDef (or a workflow task's inline ``taskDefinition``) and on a WorkflowDef::

    "inputSchema":  {"name": "charge_payment", "version": 1, "type": "JSON"},
    "outputSchema": {"name": "charge_payment"},
    "enforceSchema": true,           # Orkes: false only reports violations
    "contractMode": "warn",          # Podium: enforce | warn | off, overrides enforceSchema
    "ownerApp": "payments"           # Conductor: the service blamed for a bad output

``version`` may be omitted (the latest), a major number (``1``: the latest 1.x.y) or a version
prefix (``"1.2"``, ``"1.2.0"``). The schema used is the named contract's ``input`` or ``output``.
A name no contract has is kept, and enforced once it is registered; a ``type`` other than
``JSON`` is kept and never enforced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from podium.contracts.model import SemVer, parse_semver
from podium.dsl.models import TaskDef, WorkflowDef
from podium.errors import ValidationError

__all__ = ["Binding", "Mode", "SchemaRef", "task_binding", "workflow_binding"]


class Mode(StrEnum):
    ENFORCE = "enforce"
    WARN = "warn"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """A reference to a contract by name and version selector (None: the latest)."""

    name: str
    version: str | None = None

    def matches(self, version: SemVer) -> bool:
        if self.version is None:
            return True
        wanted = self.version.split(".")
        return [str(p) for p in version.parts()][: len(wanted)] == wanted

    def pick(self, versions: list[str]) -> str | None:
        """The highest of ``versions`` this reference selects."""
        chosen = [parse_semver(v) for v in versions if self.matches(parse_semver(v))]
        return str(max(chosen)) if chosen else None

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class Binding:
    """The contracts one task type or workflow is held to, and how strictly."""

    input: SchemaRef | None
    output: SchemaRef | None
    mode: Mode
    service: str | None

    def ref(self, part: str) -> SchemaRef | None:
        return self.input if part == "input" else self.output


def _schema_ref(value: Any, field: str) -> SchemaRef | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(
            f'{field} must be an object such as {{"name": "charge_payment", "version": 1}}',
            service="contracts",
            field=field,
        )
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationError(
            f"{field}.name must name a contract", service="contracts", field=f"{field}.name"
        )
    if value.get("type", "JSON") != "JSON":
        return None  # Conductor's AVRO and PROTOBUF: stored as given, not enforced (linted)
    version = value.get("version")
    if version is None:
        return SchemaRef(name)
    text = str(version) if isinstance(version, int) and not isinstance(version, bool) else version
    parts = text.split(".") if isinstance(text, str) else []
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValidationError(
            f'{field}.version must be a major number (1) or a version ("1.2.0"), not {version!r}',
            service="contracts",
            field=f"{field}.version",
        )
    return SchemaRef(name, ".".join(str(int(p)) for p in parts))


def _binding(fields: Mapping[str, Any], where: str) -> Binding | None:
    prefix = f"{where}." if where else ""
    input_ref = _schema_ref(fields.get("inputSchema"), f"{prefix}inputSchema")
    output_ref = _schema_ref(fields.get("outputSchema"), f"{prefix}outputSchema")
    if input_ref is None and output_ref is None:
        return None
    enforce = fields.get("enforceSchema", True)
    if not isinstance(enforce, bool):
        raise ValidationError(
            f"{prefix}enforceSchema must be true or false",
            service="contracts",
            field=f"{prefix}enforceSchema",
        )
    mode_text = fields.get("contractMode")
    if mode_text is None:
        mode = Mode.ENFORCE if enforce else Mode.WARN
    else:
        try:
            mode = Mode(mode_text)
        except ValueError:
            raise ValidationError(
                f"{prefix}contractMode must be one of enforce, warn, off, not {mode_text!r}",
                service="contracts",
                field=f"{prefix}contractMode",
            ) from None
    service = fields.get("ownerApp")
    return Binding(input_ref, output_ref, mode, service if isinstance(service, str) else None)


def task_binding(task_def: TaskDef | None, where: str = "") -> Binding | None:
    """The contracts ``task_def`` names, or None; a ValidationError names a malformed field."""
    if task_def is None or not task_def.model_extra:
        return None
    return _binding(task_def.model_extra, where)


def workflow_binding(definition: WorkflowDef, where: str = "") -> Binding | None:
    if not definition.model_extra:
        return None
    return _binding(definition.model_extra, where)
