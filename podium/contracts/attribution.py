"""Who produced a payload that broke a contract: the service to call about it.

An output was produced by the task's own service (Conductor's ``ownerApp`` on its TaskDef, else
the contract's ``service``, else the TaskDef's ``ownerEmail``) and the worker that reported it.
An input field was produced by whatever its ``inputParameters`` expression reads: another task
(blamed the same way), the workflow's caller, or the workflow definition itself.
"""

from __future__ import annotations

import re

from podium.contracts.binding import Binding, task_binding
from podium.contracts.model import Contract
from podium.dsl import expressions
from podium.dsl.models import TaskDef, WorkflowTask
from podium.engine.blueprint import Blueprint
from podium.engine.state import RunState
from podium.errors import PodiumError

__all__ = ["input_producer", "output_producer", "service_of"]

_TOP_FIELD = re.compile(r'^\$(?:\.([A-Za-z_][A-Za-z0-9_]*)|\["([^"]*)"\])')


def service_of(
    task_def: TaskDef | None, binding: Binding | None = None, contract: Contract | None = None
) -> str | None:
    if binding is not None and binding.service:
        return binding.service
    if contract is not None and contract.service:
        return contract.service
    return task_def.ownerEmail if task_def is not None else None


def _describe(service: str | None, details: list[str]) -> str:
    who = f"service '{service}'" if service else "an unnamed service (set ownerApp on its TaskDef)"
    return f"{who} ({', '.join(details)})" if details else who


def output_producer(
    step: WorkflowTask, binding: Binding, contract: Contract | None, worker_id: str | None
) -> str:
    details = [f"task '{step.name}'"]
    if worker_id:
        details.append(f"worker '{worker_id}'")
    return _describe(service_of(step.taskDefinition, binding, contract), details)


def input_producer(blueprint: Blueprint, state: RunState, step: WorkflowTask, path: str) -> str:
    """Who produced the input field at ``path`` (``$.amount``) of ``step``."""
    workflow = f"workflow '{state.name}' v{state.version}"
    match = _TOP_FIELD.match(path)
    field = (match[1] or match[2]) if match else None
    if field is None or field not in step.inputParameters:
        return f"the inputParameters of task '{step.taskReferenceName}' in {workflow}"
    template = step.inputParameters[field]
    try:
        found = expressions.references(template)
    except expressions.ExpressionError:
        found = []
    roots = {expressions.reference_root(reference) for reference in found}
    if not roots:
        return f"the definition of {workflow} (a constant in inputParameters.{field})"
    if roots == {"workflow"}:
        source = found[0]
        if source.startswith("workflow.input"):
            return f"the caller that started {workflow} (${{{source}}})"
        return f"{workflow} (${{{source}}})"
    producers = sorted(roots - {"workflow"})
    root = producers[0]
    location = blueprint.locations.get(root)
    if location is None:
        return f"task '{root}' of {workflow}"
    producer = location.task
    details = [f"task '{root}'"]
    attempt = state.latest(root)
    if attempt is not None and attempt.worker_id:
        details.append(f"worker '{attempt.worker_id}'")
    details.append(f"via ${{{next(r for r in found if r.startswith(root))}}}")
    try:
        binding = task_binding(producer.taskDefinition)
    except PodiumError:
        binding = None
    return _describe(service_of(producer.taskDefinition, binding), details)
