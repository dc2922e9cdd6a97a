"""Checks at registration that a workflow's data flow fits the contracts of its tasks.

For every ``${ref.output.x}`` (and ``${workflow.input.x}``) whose producer has a contract, the
field must be one the contract declares or allows; where the consumer's contract declares a
type for the field the reference fills, the producer's declared type must fit it; and every
input field a consumer's contract requires must be wired. A definition that fails is rejected
with every problem listed, each naming where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic

from podium.contracts import registry
from podium.contracts.binding import Binding, SchemaRef, task_binding, workflow_binding
from podium.contracts.model import Contract
from podium.contracts.schema_paths import accepts, json_type, lookup, types_of
from podium.dsl import expressions, walk
from podium.dsl.models import Compensation, TaskDef, TaskType, WorkflowDef, WorkflowTask
from podium.errors import DefinitionError, PodiumError
from podium.store.base import StoreTx

__all__ = ["check_task_defs", "check_workflow"]

_RUN_BY_WORKERS = (TaskType.SIMPLE, TaskType.HTTP)
_WHO = {"workflow": "the workflow's input", "compensated": "the step it undoes"}


@dataclass(frozen=True, slots=True)
class _Side:
    """A contract schema that one side of the data flow is held to."""

    contract: Contract
    part: str
    schema: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.part} contract '{self.contract.name}' v{self.contract.version}"


def check_task_defs(tx: StoreTx, defs: list[TaskDef]) -> list[str]:
    """Reject TaskDefs whose contract fields are malformed; the warnings to answer with
    (a contract named that is not registered, which is not enforced until it is)."""
    problems: list[str] = []
    warnings: list[str] = []
    for i, task_def in enumerate(defs):
        where = f"[{i}]" if len(defs) > 1 else ""
        try:
            binding = task_binding(task_def, where)
        except PodiumError as exc:
            problems.append(_located(exc))
            continue
        if binding is not None:
            _sides(tx, "task", binding, f"{where}." if where else "", problems, warnings)
    _raise(problems, "the task definitions are not valid")
    return warnings


def check_workflow(tx: StoreTx, definition: WorkflowDef) -> list[str]:
    """Raise DefinitionError listing every contract problem of ``definition``; return the
    warnings (contracts named that are not registered, so not checked)."""
    problems: list[str] = []
    warnings: list[str] = []
    _check_definition(tx, definition, "", _TaskDefs(tx), problems, warnings)
    _raise(problems, f"workflow '{definition.name}' v{definition.version} breaks its contracts")
    return warnings


class _TaskDefs:
    """The registered TaskDefs a definition's steps name, each read once."""

    def __init__(self, tx: StoreTx) -> None:
        self._tx = tx
        self._found: dict[str, TaskDef | None] = {}

    def of(self, step: WorkflowTask | Compensation) -> TaskDef | None:
        if step.taskDefinition is not None or step.type not in _RUN_BY_WORKERS:
            return step.taskDefinition
        if step.name not in self._found:
            found = self._tx.get_task_def(step.name)
            self._found[step.name] = TaskDef.model_validate(found) if found else None
        return self._found[step.name]


def _check_definition(
    tx: StoreTx,
    definition: WorkflowDef,
    prefix: str,
    task_defs: _TaskDefs,
    problems: list[str],
    warnings: list[str],
) -> None:
    """The checks of :func:`check_workflow`, each problem's path after ``prefix`` (an inline
    sub-workflow's place in its parent)."""
    producers: dict[str, dict[str, _Side]] = {}
    # What each step or compensation feeds its input from, with the contract sides it has.
    consumers: list[tuple[str, str, dict[str, Any], dict[str, _Side], str | None]] = []
    places = list(walk.walk(definition.tasks, f"{prefix}tasks"))
    for place in places:
        path, step = place.path, place.step
        sides = _step_sides(tx, task_defs.of(step), path, problems, warnings)
        if sides is None:
            continue
        producers[step.taskReferenceName] = sides
        consumers.append((path, step.taskReferenceName, step.inputParameters, sides, None))
    for path, place, undo in walk.compensations(places):
        sides = _step_sides(tx, task_defs.of(undo), path, problems, warnings)
        if sides is not None:
            # ``${compensated.output...}`` reads the very step being undone.
            ref = place.step.taskReferenceName
            consumers.append((path, ref, undo.inputParameters, sides, ref))
    try:
        flow = workflow_binding(definition)
    except PodiumError as exc:
        problems.append(prefix + _located(exc))
        flow = None
    own = _sides(tx, "workflow", flow, prefix, problems, warnings) if flow else {}
    if "input" in own:
        producers["workflow"] = {"output": own["input"]}
    for path, ref, template, sides, compensated in consumers:
        at = f"{path}.inputParameters"
        owner = f" (task '{ref}')"
        seen = producers
        if compensated is not None:
            seen = {**producers, "compensated": producers.get(compensated, {})}
        _check_template(template, [], at, owner, sides.get("input"), seen, problems)
        if "input" in sides:
            _check_required(template, sides["input"], at, owner, problems)
    outputs = definition.outputParameters
    where = f"{prefix}outputParameters"
    _check_template(outputs, [], where, "", own.get("output"), producers, problems)
    if "output" in own:
        _check_required(outputs, own["output"], where, "", problems)
    for path, _, body in walk.inline_definitions(places):
        try:
            inline = WorkflowDef.model_validate(body)
        except pydantic.ValidationError:
            continue  # the definition validator's to report
        _check_definition(tx, inline, f"{path}.", task_defs, problems, warnings)


def _step_sides(
    tx: StoreTx, task_def: TaskDef | None, path: str, problems: list[str], warnings: list[str]
) -> dict[str, _Side] | None:
    """The contract sides of a step or compensation whose TaskDef is ``task_def``; None when
    its contract fields are malformed (a problem then says so)."""
    try:
        binding = task_binding(task_def, f"{path}.taskDefinition")
    except PodiumError as exc:
        problems.append(_located(exc))
        return None
    if binding is None:
        return {}
    return _sides(tx, "task", binding, f"{path}.taskDefinition.", problems, warnings)


def _located(exc: PodiumError) -> str:
    """The error as a problem line that starts with the field it is about."""
    field = exc.field or ""
    return exc.message if exc.message.startswith(field) else f"{field}: {exc.message}"


def _raise(problems: list[str], headline: str) -> None:
    if problems:
        raise DefinitionError(
            f"{headline}: " + "; ".join(problems),
            service="contracts",
            field=problems[0].split(" ", 1)[0].rstrip(":"),
        )


def _sides(
    tx: StoreTx,
    kind: str,
    binding: Binding,
    prefix: str,
    problems: list[str],
    warnings: list[str],
) -> dict[str, _Side]:
    sides: dict[str, _Side] = {}
    for part, ref in (("input", binding.input), ("output", binding.output)):
        if ref is None:
            continue
        contract = registry.find(tx, kind, ref)
        field = f"{prefix}{part}Schema"
        if contract is None:
            # Conductor stores a schema name it does not know; so does Podium, unchecked.
            warnings.append(f"{field}: {_missing(tx, kind, ref)}; stored, not enforced until it is")
            continue
        schema = contract.schema(part)
        if schema is None:
            problems.append(f"{field}: {contract.label} has no {part} schema")
            continue
        sides[part] = _Side(contract, part, schema)
    return sides


def _missing(tx: StoreTx, kind: str, ref: SchemaRef) -> str:
    known = registry.versions(tx, kind, ref.name)
    if not known:
        return f"no {kind} contract '{ref.name}' is registered"
    return f"{kind} contract '{ref.name}' has no version {ref.version} (registered: {', '.join(known)})"


def _check_template(
    template: Any,
    at_path: list[str | int],
    where: str,
    owner: str,
    consumer: _Side | None,
    producers: dict[str, dict[str, _Side]],
    problems: list[str],
) -> None:
    """Walk a template; check each reference's producer and each value's consumer type."""
    if isinstance(template, dict):
        for key, value in template.items():
            _check_template(
                value, [*at_path, key], f"{where}.{key}", owner, consumer, producers, problems
            )
        return
    if isinstance(template, list):
        for i, value in enumerate(template):
            _check_template(
                value, [*at_path, i], f"{where}[{i}]", owner, consumer, producers, problems
            )
        return
    wanted = _consumer_types(consumer, at_path)
    if not isinstance(template, str) or "${" not in template:
        if wanted is not None and consumer is not None and accepts(wanted, {json_type(template)}):
            problems.append(
                f"{where}{owner}: the constant {template!r} is {json_type(template)}, but "
                f"{consumer.label} wants {'/'.join(sorted(wanted))}"
            )
        return
    try:
        found = expressions.references(template)
    except expressions.ExpressionError:
        return  # malformed references are the definition validator's to report
    whole = expressions.single_reference(template)
    for reference in found:
        produced = _produced_types(reference, where, owner, producers, problems)
        if consumer is None or wanted is None:
            continue
        if whole != reference:
            produced = {"string"}  # text around a reference makes the value a string
        if produced is None:
            continue
        misfit = accepts(wanted, produced)
        if misfit:
            problems.append(
                f"{where}{owner}: '{template}' gives {'/'.join(sorted(produced))}, but "
                f"{consumer.label} wants {'/'.join(sorted(wanted))} here"
            )


def _consumer_types(consumer: _Side | None, at_path: list[str | int]) -> set[str] | None:
    if consumer is None:
        return None
    found = lookup(consumer.schema, at_path)
    if found.schema is None:
        return None
    return types_of(found.schema, consumer.schema)


def _produced_types(
    reference: str,
    where: str,
    owner: str,
    producers: dict[str, dict[str, _Side]],
    problems: list[str],
) -> set[str] | None:
    segments = expressions.reference_segments(reference)
    if len(segments) < 2 or not isinstance(segments[0], str):
        return None
    root, part = segments[0], segments[1]
    side = producers.get(root, {}).get("output")
    expected = "input" if root == "workflow" else "output"
    if side is None or part != expected:
        return None
    found = lookup(side.schema, list(segments[2:]))
    if found.refused is not None:
        who = _WHO.get(root, f"task '{root}'")
        problems.append(
            f"{where}{owner}: '${{{reference}}}' reads a field {who} cannot have: "
            f"{side.label} says {found.refused}"
        )
        return None
    return types_of(found.schema, side.schema) if found.schema is not None else None


def _check_required(
    template: dict[str, Any], side: _Side, where: str, owner: str, problems: list[str]
) -> None:
    required = side.schema.get("required")
    if not isinstance(required, list):
        return
    for name in required:
        if name not in template:
            problems.append(
                f"{where}.{name}{owner}: {side.label} requires '{name}', which is not wired"
            )
