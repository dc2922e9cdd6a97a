"""Reading request bodies: size limit, JSON, and validation errors that name the field."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
import pydantic
from starlette.requests import Request

from podium.dsl.http_request import template_names
from podium.dsl.models import WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.engine.state import TaskStatus
from podium.errors import ValidationError
from podium.server.limits import check_depth
from podium.server.schemas import StartWorkflowRequest
from podium.server.task_defs import input_templates

__all__ = [
    "inline_definition",
    "parse_bool",
    "read_json",
    "read_model",
    "read_signal",
    "validation_error",
]

M = TypeVar("M", bound=pydantic.BaseModel)


async def read_json(request: Request, *, empty: Any = None, field: str | None = None) -> Any:
    """The request's JSON body; ``empty`` when there is none.

    Its size was held to the limit as it was read (``request_limits.RequestLimits``); its nesting is
    held to ``PODIUM_MAX_JSON_DEPTH`` here, naming ``field`` when the body stands for one
    (a run's input), or else the body's own key that holds the too deep value.
    """
    body = await request.body()
    if not body.strip():
        return empty
    limit: int = request.app.state.settings.max_json_depth
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            # orjson stops at 1,024 levels, without recursing: past any limit Podium allows.
            raise ValidationError(
                f"{field or 'the body'} is past the limit of {limit} levels of nested objects "
                "and arrays (PODIUM_MAX_JSON_DEPTH)",
                service="server",
                field=field or "body",
            ) from exc
        raise ValidationError(f"the body is not valid JSON: {exc}", field="body") from exc
    if len(body) > 2 * limit:  # a shorter body cannot hold ``limit`` levels of brackets
        check_depth(limit, value, field)
    return value


async def read_signal(request: Request, status: str) -> tuple[TaskStatus, dict[str, Any]]:
    """A signal's status (from its path, any case) and the output its body gives the task."""
    try:
        task_status = TaskStatus(status.upper())
    except ValueError:
        raise ValidationError(f"'{status}' is not a task status", field="status") from None
    output = await read_json(request, empty={}, field="outputData")
    if not isinstance(output, dict):
        raise ValidationError("the output must be a JSON object", field="body")
    return task_status, output


def validation_error(exc: pydantic.ValidationError, prefix: str = "") -> ValidationError:
    """Pydantic's errors as one message naming every field, e.g. ``tasks[0].name``."""
    problems = []
    first_field = None
    for error in exc.errors():
        path = prefix
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        first_field = first_field or path or "body"
        problems.append(f"{path or 'body'}: {error['msg']}")
    return ValidationError("; ".join(problems), field=first_field)


def read_model(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, prefix) from exc


def parse_bool(value: str | None, default: bool = False) -> bool:
    """Conductor SDKs send ``True``/``true``/``1``: read them all."""
    if value is None or value == "":
        return default
    return value.strip().lower() in ("true", "1", "yes")


async def inline_definition(http: Request, request: StartWorkflowRequest) -> WorkflowDef | None:
    """The request's ``workflowDef``, validated as registration would; None when it has none.

    Its name must be the one the run is started by, so that searches by name find the run.
    """
    if request.workflowDef is None:
        return None
    definition = read_model(WorkflowDef, request.workflowDef, "workflowDef")
    if definition.name != request.name:
        raise ValidationError(
            f"workflowDef.name '{definition.name}' is not the name '{request.name}' to start",
            field="workflowDef.name",
        )
    templates: dict[str, dict[str, Any]] = {}
    if template_names(definition):  # only then is there a TaskDef to read
        store = http.app.state.orchestrator.store
        templates = await store.read(lambda tx: input_templates(tx, definition))
    try:
        validate_workflow(definition, templates)
    except ValidationError as exc:
        field = f"workflowDef.{exc.field}" if exc.field else "workflowDef"
        raise ValidationError(f"workflowDef: {exc.message}", field=field) from exc
    return definition
