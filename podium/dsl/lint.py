"""Warnings about definitions that register but would not do what their author meant.

Conductor registers a definition with unknown fields, and with references that resolve to
null, and so does Podium: an exported definition must move over unchanged. But a misspelt
``inputParameter`` is then ignored and ``${workflow.inptu.who}`` gives null, and the run
completes "successfully" with wrong data. These checks find such slips at registration, each
named by its JSON path, with a "did you mean" where a known name is close. Registration
answers them as warnings; ``?strict=true`` (``podium register --strict``) refuses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from podium.dsl import expressions, walk
from podium.dsl.http_request import REQUEST_KEY, flat_keys_beside
from podium.dsl.models import (
    CacheConfig,
    Compensation,
    SubWorkflowParams,
    TaskDef,
    TaskType,
    WorkflowDef,
    WorkflowTask,
)
from podium.dsl.suggestions import did_you_mean
from podium.dsl.validation import ITERATION_SUFFIX

__all__ = [
    "CONDUCTOR_ONLY_WORKFLOW_FIELDS",
    "WORKFLOW_FIELDS",
    "lint_task_def",
    "lint_workflow",
]

WORKFLOW_FIELDS = frozenset(
    {
        "input",
        "output",
        "variables",
        "status",
        "workflowId",
        "workflowType",
        "version",
        "correlationId",
        "parentWorkflowId",
        "parentWorkflowTaskId",
        "reasonForIncompletion",
        "createTime",
        "secrets",
    }
)
"""What ``${workflow.<field>}`` reads in Podium (``engine/context.py`` fills exactly these)."""

CONDUCTOR_ONLY_WORKFLOW_FIELDS = frozenset({"schemaVersion", "env"})
"""Built-ins of Conductor (``env``: Orkes) that Podium does not fill: they resolve to null."""

# Fields Conductor's models have (conductor-oss and its Python SDK send them) that Podium's
# models do not declare: kept as they came and ignored, so never worth a warning.
_CONDUCTOR_FIELDS: dict[type[BaseModel], frozenset[str]] = {
    WorkflowDef: frozenset(
        {
            "createTime",
            "updateTime",
            "createdBy",
            "updatedBy",
            "ownerApp",
            "inputTemplate",
            "workflowStatusListenerEnabled",
            "workflowStatusListenerSink",
            "rateLimitConfig",
            "inputSchema",
            "outputSchema",
            "enforceSchema",
            "metadata",
            "maskedFields",
            "tags",
            "cacheConfig",
            "contractMode",  # Podium's contracts read it from the extra fields
        }
    ),
    WorkflowTask: frozenset(
        {
            "scriptExpression",
            "callbackFromWorker",  # older Conductor exports still carry it
            "dynamicForkJoinTasksParam",
            "rateLimited",
            "defaultExclusiveJoinTask",
            "retryCount",
            "workflowTaskType",
            "onStateChange",
            "joinStatus",
            "permissive",
        }
    ),
    TaskDef: frozenset(
        {
            "createTime",
            "updateTime",
            "createdBy",
            "updatedBy",
            "ownerApp",
            "isolationGroupId",
            "executionNameSpace",
            "inputSchema",
            "outputSchema",
            "enforceSchema",
            "baseType",
            "totalTimeoutSeconds",
            "runtimeMetadata",
            "tags",
            "contractMode",
        }
    ),
    SubWorkflowParams: frozenset(
        {"taskToDomain", "workflowDefinition", "idempotencyKey", "idempotencyStrategy", "priority"}
    ),
}


def _known(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(model.model_fields) | _CONDUCTOR_FIELDS.get(model, frozenset())


_KNOWN: dict[type[BaseModel], frozenset[str]] = {
    model: _known(model)
    for model in (WorkflowDef, WorkflowTask, TaskDef, SubWorkflowParams, Compensation, CacheConfig)
}


# Podium's former bound: Conductor has none, and so many attempts are seldom meant.
_MANY_RETRIES = 1000


def lint_task_def(data: Any, where: str = "") -> list[str]:
    """Warnings about one task definition as it was sent (its unknown fields, a retryCount
    above 1000)."""
    found: list[str] = []
    _unknown_fields(data, TaskDef, where, found)
    _retry_count(data, where, found)
    if isinstance(data, Mapping):
        for name in ("inputSchema", "outputSchema"):
            schema = data.get(name)
            kind = schema.get("type", "JSON") if isinstance(schema, Mapping) else "JSON"
            if kind != "JSON":
                place = f"{where}.{name}.type" if where else f"{name}.type"
                found.append(
                    f"{place}: Podium checks only JSON schemas; {kind!r} is stored, not enforced"
                )
    return found


def _retry_count(data: Any, path: str, found: list[str]) -> None:
    count = data.get("retryCount") if isinstance(data, Mapping) else None
    if isinstance(count, int) and not isinstance(count, bool) and count > _MANY_RETRIES:
        place = f"{path}.retryCount" if path else "retryCount"
        found.append(
            f"{place}: {count} retries is more than {_MANY_RETRIES}; a failing task is tried "
            f"{count + 1} times before its run fails"
        )


def lint_workflow(data: Any, definition: WorkflowDef, where: str = "") -> list[str]:
    """Warnings about a workflow definition: ``data`` as it was sent, ``definition`` parsed.

    ``where`` prefixes every path (``[1].`` in a bulk registration).
    """
    found: list[str] = []
    _unknown_fields(data, WorkflowDef, where.rstrip("."), found)
    if isinstance(data, Mapping):
        # Unknown fields are read from the JSON as sent, at each step's place in it.
        sent = data.get("tasks")
        for place in walk.walk(definition.tasks, f"{where}tasks"):
            _task_fields(walk.raw_step(sent, place), place.path, found)
    _references(definition, where, found)
    _http_flat_keys(definition, where, found)
    return found


def _unknown_fields(data: Any, model: type[BaseModel], path: str, found: list[str]) -> None:
    if not isinstance(data, Mapping):
        return
    known = _KNOWN[model]
    for key in data:
        if key not in known:
            place = f"{path}.{key}" if path else str(key)
            found.append(f"{place}: unknown field, ignored{did_you_mean(str(key), known)}")


def _task_fields(data: Any, path: str, found: list[str]) -> None:
    if not isinstance(data, Mapping):
        return
    ref = data.get("taskReferenceName")
    owner = f" (task '{ref}')" if isinstance(ref, str) else ""
    before = len(found)
    _unknown_fields(data, WorkflowTask, path, found)
    for name, model in (
        ("subWorkflowParam", SubWorkflowParams),
        ("taskDefinition", TaskDef),
        ("compensation", Compensation),
        ("cacheConfig", CacheConfig),
    ):
        _unknown_fields(data.get(name), model, f"{path}.{name}", found)
    embedded = data.get("taskDefinition")
    _retry_count(embedded, f"{path}.taskDefinition", found)
    if isinstance(embedded, Mapping) and "name" not in embedded:
        found.append(
            f"{path}.taskDefinition.name: missing; the task's name '{data.get('name')}' is used"
        )
    # The task's reference name goes after its path, as in the errors of validation.py.
    for i in range(before, len(found)):
        place, _, rest = found[i].partition(": ")
        found[i] = f"{place}{owner}: {rest}"


def _references(definition: WorkflowDef, where: str, found: list[str]) -> None:
    """``${workflow.<unknown>}`` anywhere, and ``${ref...}`` of a task that runs later."""
    steps = [(at.path, at) for at in walk.walk(definition.tasks, f"{where}tasks")]
    order = {at.step.taskReferenceName: i for i, (_, at) in enumerate(steps)}
    places = {at.step.taskReferenceName: path for path, at in steps}
    # The DO_WHILEs each step runs in.
    bodies = {at.step.taskReferenceName: set(at.loops) for _, at in steps}
    for i, (path, at) in enumerate(steps):
        step = at.step
        owner = f" (task '{step.taskReferenceName}')"
        templates = [(f"{path}.inputParameters", step.inputParameters, True)]
        if step.compensation is not None:
            # A compensation runs after the run failed: every step before it may be read.
            templates.append(
                (f"{path}.compensation.inputParameters", step.compensation.inputParameters, False)
            )
        for place, template, ordered in templates:
            for reference in _safe_references(template):
                segments = expressions.reference_segments(reference)
                root = segments[0] if segments else ""
                if root == "workflow":
                    _workflow_field(reference, segments, f"{place}{owner}", found)
                    continue
                if not ordered or not isinstance(root, str):
                    continue
                root = root if root in order else ITERATION_SUFFIX.sub("", root)
                later = order.get(root)
                if later is None or later < i:
                    continue
                if bodies[root] & bodies[step.taskReferenceName]:
                    continue  # the same loop's body: the previous iteration's value
                if _is_loop_of(root, step):
                    continue
                what = "itself" if later == i else f"'{root}', which runs after it ({places[root]})"
                found.append(
                    f"{place}{owner}: '${{{reference}}}' refers to {what}; "
                    "when this task starts it resolves to null"
                )
    for reference in _safe_references(definition.outputParameters):
        segments = expressions.reference_segments(reference)
        if segments and segments[0] == "workflow":
            _workflow_field(reference, segments, f"{where}outputParameters", found)


def _safe_references(template: Any) -> list[str]:
    # Malformed references are validation's errors; here they are simply skipped.
    try:
        return expressions.references(template)
    except expressions.ExpressionError:
        return []


def _workflow_field(
    reference: str, segments: tuple[expressions.Segment, ...], place: str, found: list[str]
) -> None:
    if len(segments) < 2:
        return
    field = segments[1]
    if not isinstance(field, str) or field in WORKFLOW_FIELDS:
        return
    if field in CONDUCTOR_ONLY_WORKFLOW_FIELDS:
        found.append(
            f"{place}: '${{{reference}}}' reads workflow.{field}, which Podium does not "
            "provide; it resolves to null"
        )
        return
    known = WORKFLOW_FIELDS | CONDUCTOR_ONLY_WORKFLOW_FIELDS
    found.append(
        f"{place}: '${{{reference}}}' reads workflow.{field}, which is no field of a workflow; "
        f"it resolves to null{did_you_mean(field, known)}"
    )


def _is_loop_of(root: str, step: WorkflowTask) -> bool:
    """Whether ``step`` is a DO_WHILE and ``root`` itself or a step of its body: Conductor
    evaluates a loop's input again at every iteration (``${loop.output.iteration}``)."""
    if step.type != TaskType.DO_WHILE:
        return False
    return root == step.taskReferenceName or root in {
        t.taskReferenceName for t in walk.steps(step.loopOver)
    }


def _http_flat_keys(definition: WorkflowDef, where: str, found: list[str]) -> None:
    """Flat request keys beside ``http_request``: the request wins, as in Conductor."""
    for place in walk.walk(definition.tasks, f"{where}tasks"):
        path, step = place.path, place.step
        if step.type != TaskType.HTTP:
            continue
        for key in flat_keys_beside(step.inputParameters):
            found.append(
                f"{path}.inputParameters.{key} (task '{step.taskReferenceName}'): ignored; "
                f"the request is inputParameters.{REQUEST_KEY}"
            )
