"""Where an HTTP task's input holds its request: under ``http_request``, or the input itself.

Conductor's HTTP task reads ``inputParameters.http_request``; its docs, end-to-end suite and
SDK test data also write the request's keys straight into ``inputParameters`` (the flat form:
``uri``, ``method``, ``headers``, ``body``, ``accept``, ``contentType``, ``connectionTimeOut``,
``readTimeOut``). When ``http_request`` is there it is the request and flat keys beside it are
ignored, as Conductor ignores them; otherwise the input is the request.

Registration, the engine (leases, secret notes) and the executor all ask this module, so that
they never disagree about which request a task sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.dsl import walk
from podium.dsl.models import Compensation, TaskType, WorkflowDef, WorkflowTask

__all__ = [
    "FLAT_KEYS",
    "REQUEST_KEY",
    "async_complete",
    "flat_keys_beside",
    "request_of",
    "template_names",
    "under_template",
    "uri_problem",
]

REQUEST_KEY = "http_request"

FLAT_KEYS = frozenset(
    {
        "uri",
        "method",
        "headers",
        "body",
        "accept",
        "contentType",
        "connectionTimeOut",
        "readTimeOut",
    }
)
"""The request's keys Conductor's flat form writes into ``inputParameters``."""


def request_of(task_input: Mapping[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """The request ``task_input`` describes, and the path to it within the input.

    The path is ``("http_request",)`` or ``()`` for the flat form; secret notes record it, so
    that a note made for one form is never applied to the other."""
    nested = task_input.get(REQUEST_KEY)
    if nested is not None:
        return nested, (REQUEST_KEY,)
    return task_input, ()


def flat_keys_beside(inputs: Mapping[str, Any]) -> list[str]:
    """Flat request keys written next to ``http_request``, which the request overrides."""
    if inputs.get(REQUEST_KEY) is None:
        return []
    return sorted(FLAT_KEYS & set(inputs))


def async_complete(task_input: Mapping[str, Any], step_says: bool) -> bool:
    """Whether a call that answered 2xx leaves the task IN_PROGRESS, to be completed through
    the API: the input's ``asyncComplete`` when it has one (``true``/``"true"``, as Conductor
    reads it), else the step's own ``asyncComplete``."""
    if "asyncComplete" in task_input:
        return str(task_input["asyncComplete"]).lower() == "true"
    return step_says


def uri_problem(inputs: Mapping[str, Any], here: str, at: str) -> str | None:
    """The field to name when a step's request (nested or flat) has no uri; None when it has
    one, or when ``http_request`` is an expression (``${...}``), whose value is the request
    and is checked when the task runs, as Conductor reads it then."""
    request, path = request_of(inputs)
    if isinstance(request, str) and "${" in request:
        return None
    if isinstance(request, dict) and request.get("uri"):
        return None
    field = (
        ".".join((here, *path, "uri")) if path or "uri" in inputs else f"{here}.http_request.uri"
    )
    return f"{field}{at}"


def under_template(
    step: WorkflowTask | Compensation, templates: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    """The step's inputs over its TaskDef's ``inputTemplate``: the embedded ``taskDefinition``
    if it has one, else the registered one's (``templates``, by name), as the run will see."""
    if step.taskDefinition is not None:
        return step.taskDefinition.under_template(step.inputParameters)
    return {**templates.get(step.name, {}), **step.inputParameters}


def template_names(definition: WorkflowDef) -> set[str]:
    """The HTTP steps (and compensations) whose request must come from a registered TaskDef's
    ``inputTemplate``: those with no ``taskDefinition`` of their own and no uri."""
    names: set[str] = set()
    for step in walk.steps(definition.tasks):
        for candidate in (step, step.compensation):
            if (
                candidate is not None
                and candidate.type == TaskType.HTTP
                and candidate.taskDefinition is None
                and uri_problem(candidate.inputParameters, "", "") is not None
            ):
                names.add(candidate.name)
    return names
