"""An SLO as registered: what it covers (a workflow, one of its steps, or a service), its
objective (latency or success) and its window.

``parse_slo`` checks a JSON body and names the field it refuses; ``Slo.to_json`` gives the
body back in its canonical form, which is what versions are compared on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from podium.errors import ValidationError
from podium.slo.durations import parse_duration

__all__ = ["LatencyObjective", "Slo", "SuccessObjective", "parse_slo"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_MAX_THRESHOLD_MS = 365 * 86_400_000
DEFAULT_WINDOW = "30d"
"""The SRE workbook's window, the one its burn-rate windows are given for."""


@dataclass(frozen=True, slots=True)
class LatencyObjective:
    """``percentile`` percent of runs (or task attempts) take at most ``threshold_ms``."""

    percentile: float
    threshold_ms: int

    @property
    def target(self) -> float:
        return self.percentile / 100

    def to_json(self) -> dict[str, Any]:
        return {"latency": {"percentile": self.percentile, "thresholdMs": self.threshold_ms}}


@dataclass(frozen=True, slots=True)
class SuccessObjective:
    """At least ``target`` of runs (or task attempts) end COMPLETED; a run that ended
    COMPENSATED counts as a success only when ``count_compensated_as_failure`` is off."""

    target: float
    count_compensated_as_failure: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "success": {
                "target": self.target,
                "countCompensatedAsFailure": self.count_compensated_as_failure,
            }
        }


Objective = LatencyObjective | SuccessObjective


@dataclass(frozen=True, slots=True)
class Slo:
    name: str
    objective: Objective
    window: str
    window_ms: int
    workflow: str | None = None
    step: str | None = None
    """A step's ``taskReferenceName`` in ``workflow``: its task attempts are measured."""
    service: str | None = None
    """The service owning the tasks measured (with ``workflow``, only that workflow's)."""
    description: str | None = None

    @property
    def scope(self) -> str:
        """What is counted: ``workflow`` (its runs), ``step`` or ``service`` (task attempts)."""
        if self.step is not None:
            return "step"
        return "service" if self.service is not None else "workflow"

    @property
    def target(self) -> float:
        return self.objective.target

    @property
    def kind(self) -> str:
        return "latency" if isinstance(self.objective, LatencyObjective) else "success"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name}
        for key, value in (
            ("workflow", self.workflow),
            ("step", self.step),
            ("service", self.service),
            ("description", self.description),
        ):
            if value is not None:
                body[key] = value
        body["objective"] = self.objective.to_json()
        body["window"] = self.window
        return body


def _text(body: dict[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where}{key} must be a non-empty string", field=f"{where}{key}")
    return value


def _fraction(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ValidationError(
            f"{field} must be a fraction between 0 and 1 (0.995 for 99.5%), not {value!r}",
            field=field,
        )
    return float(value)


def _objective(value: Any, where: str) -> Objective:
    field = f"{where}objective"
    if not isinstance(value, dict) or len(value) != 1 or not {"latency", "success"} & set(value):
        raise ValidationError(
            f"{field} must be one of {{'latency': {{...}}}} or {{'success': {{...}}}}", field=field
        )
    if "latency" in value:
        latency = value["latency"]
        if not isinstance(latency, dict):
            raise ValidationError(f"{field}.latency must be an object", field=f"{field}.latency")
        percentile = latency.get("percentile")
        if (
            isinstance(percentile, bool)
            or not isinstance(percentile, int | float)
            or not 0 < percentile < 100
        ):
            raise ValidationError(
                f"{field}.latency.percentile must be a number between 0 and 100, not "
                f"{percentile!r}",
                field=f"{field}.latency.percentile",
            )
        threshold = latency.get("thresholdMs")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int)
            or not 0 < threshold <= _MAX_THRESHOLD_MS
        ):
            raise ValidationError(
                f"{field}.latency.thresholdMs must be a whole number of milliseconds from 1 to "
                f"{_MAX_THRESHOLD_MS} (a year), not {threshold!r}",
                field=f"{field}.latency.thresholdMs",
            )
        return LatencyObjective(float(percentile), threshold)
    success = value["success"]
    if not isinstance(success, dict):
        raise ValidationError(f"{field}.success must be an object", field=f"{field}.success")
    compensated = success.get("countCompensatedAsFailure", True)
    if not isinstance(compensated, bool):
        raise ValidationError(
            f"{field}.success.countCompensatedAsFailure must be true or false",
            field=f"{field}.success.countCompensatedAsFailure",
        )
    return SuccessObjective(
        _fraction(success.get("target"), f"{field}.success.target"), compensated
    )


def parse_slo(body: Any, where: str = "") -> Slo:
    """An Slo from its JSON body; ``where`` prefixes field names (``[2].`` in a list)."""
    if where and not where.endswith("."):
        where += "."
    if not isinstance(body, dict):
        raise ValidationError(f"{where or 'the body '}must be an SLO object", field=where or "body")
    name = _text(body, "name", where)
    if name is None or not _NAME.match(name):
        raise ValidationError(
            f"{where}name must be letters, digits, '_', '.' or '-' (at most 128), not {name!r}",
            field=f"{where}name",
        )
    workflow = _text(body, "workflow", where)
    step = _text(body, "step", where)
    service = _text(body, "service", where)
    if step is not None and workflow is None:
        raise ValidationError(
            f"{where}step needs the workflow whose step it is", field=f"{where}workflow"
        )
    if step is not None and service is not None:
        raise ValidationError(
            f"{where}step and service cannot both be given: a step's tasks have one owner",
            field=f"{where}service",
        )
    if workflow is None and service is None:
        raise ValidationError(
            f"{where}an SLO covers a workflow, a step of one, or a service: give workflow or "
            f"service",
            field=f"{where}workflow",
        )
    window = body.get("window", DEFAULT_WINDOW)
    window_ms = parse_duration(window, f"{where}window")
    if window_ms < 3_600_000:
        raise ValidationError(
            f"{where}window must be at least 1h, not {window!r}", field=f"{where}window"
        )
    known = {"name", "workflow", "step", "service", "objective", "window", "description"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValidationError(
            f"{where}{unknown[0]} is not a field of an SLO ({', '.join(sorted(known))})",
            field=f"{where}{unknown[0]}",
        )
    return Slo(
        name=name,
        objective=_objective(body.get("objective"), where),
        window=str(window),
        window_ms=window_ms,
        workflow=workflow,
        step=step,
        service=service,
        description=_text(body, "description", where),
    )
