"""``/api/metadata``: task and workflow definitions, as Conductor serves them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from podium.contracts.references import check_task_defs, check_workflow
from podium.dsl.http_request import template_names
from podium.dsl.lint import lint_task_def, lint_workflow
from podium.dsl.models import TaskDef, WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.errors import (
    ConflictError,
    DefinitionNotFoundError,
    DefinitionWarningsError,
    ValidationError,
)
from podium.server.limits import check_fork_width, settings_of
from podium.server.requests import parse_bool, read_json, read_model
from podium.server.schemas import VersionPath, VersionQuery
from podium.server.state import orchestrator_of
from podium.server.task_defs import input_templates
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/metadata", tags=["metadata"])

_TASK_DEF_BODY = {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}
_WORKFLOW_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}


_STRICT = Query(
    default=None, description="true: refuse, with a 400, definitions that draw warnings (for CI)."
)
# Conductor answers registration with an empty 200; Podium adds what it noticed, in the body
# and as a count in this header, which clients that ignore the body can still see.
_WARNINGS_HEADER = "X-Podium-Warnings"


def _answer(registered: list[str], warnings: list[str], strict: str | None) -> JSONResponse:
    """The registration's answer; under ``strict``, a 400 listing the warnings instead.

    Called before anything is written, so that a strict refusal changes nothing.
    """
    if warnings and parse_bool(strict):
        raise DefinitionWarningsError(
            f"refused under strict registration, {len(warnings)} warning(s): "
            + " | ".join(warnings),
            service="dsl",
            field=warnings[0].split(" ", 1)[0].rstrip(":"),
        )
    return JSONResponse(
        {"registered": registered, "warnings": warnings},
        headers={_WARNINGS_HEADER: str(len(warnings))},
    )


def _as_list(data: Any, what: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise ValidationError(f"the body must be a {what} or a list of them", field="body")


@router.post("/taskdefs", openapi_extra={"requestBody": _TASK_DEF_BODY})
@router.put("/taskdefs", openapi_extra={"requestBody": _TASK_DEF_BODY})
async def put_task_defs(request: Request, strict: str | None = _STRICT) -> JSONResponse:
    """Register or update task definitions (a list, or one)."""
    items = _as_list(await read_json(request), "task definition")
    defs = [read_model(TaskDef, item, f"[{i}]") for i, item in enumerate(items)]
    warnings = [w for i, item in enumerate(items) for w in lint_task_def(item, f"[{i}]")]
    _answer([d.name for d in defs], warnings, strict)  # refuses under strict, before any read
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> JSONResponse:
        found = warnings + check_task_defs(tx, defs)
        answer = _answer([d.name for d in defs], found, strict)  # before anything is written
        for task_def in defs:
            tx.put_task_def(task_def.name, task_def.to_json(), now)
        return answer

    answer: JSONResponse = await orchestrator.store.write(unit)
    return answer


@router.get("/taskdefs")
async def list_task_defs(request: Request) -> list[dict[str, Any]]:
    store = orchestrator_of(request).store
    found: list[dict[str, Any]] = await store.read(lambda tx: tx.list_task_defs())
    return found


@router.get("/taskdefs/{name}")
async def get_task_def(name: str, request: Request) -> dict[str, Any]:
    store = orchestrator_of(request).store
    found: dict[str, Any] | None = await store.read(lambda tx: tx.get_task_def(name))
    if found is None:
        raise DefinitionNotFoundError(f"no task definition '{name}'", field="name")
    return found


@router.delete("/taskdefs/{name}")
async def delete_task_def(name: str, request: Request) -> dict[str, Any]:
    store = orchestrator_of(request).store
    if not await store.write(lambda tx: tx.delete_task_def(name)):
        raise DefinitionNotFoundError(f"no task definition '{name}'", field="name")
    return {"deleted": name}


async def _templates(request: Request, defs: list[WorkflowDef]) -> dict[str, dict[str, Any]]:
    """The registered ``inputTemplate``s the HTTP steps of ``defs`` may need (see
    ``task_defs.input_templates``); no read when every step names its own request."""
    if not any(template_names(d) for d in defs):
        return {}

    def unit(tx: StoreTx) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for definition in defs:
            found.update(input_templates(tx, definition))
        return found

    templates: dict[str, dict[str, Any]] = await orchestrator_of(request).store.read(unit)
    return templates


async def _register_workflows(
    request: Request, items: list[Any], overwrite: bool, strict: str | None
) -> JSONResponse:
    defs = [
        read_model(WorkflowDef, item, f"[{i}]" if len(items) > 1 else "")
        for i, item in enumerate(items)
    ]
    settings = settings_of(request)
    warnings: list[str] = []
    templates = await _templates(request, defs)
    for i, (item, definition) in enumerate(zip(items, defs, strict=True)):
        where = f"[{i}]." if len(defs) > 1 else ""
        lenient = validate_workflow(definition, templates)
        check_fork_width(settings, definition, where)
        warnings.extend(f"{where}{w}" for w in lenient)
        warnings.extend(lint_workflow(item, definition, where))
    _answer([f"{d.name}:{d.version}" for d in defs], warnings, strict)
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> JSONResponse:
        found = list(warnings)
        for i, definition in enumerate(defs):
            if not overwrite and tx.get_workflow_def(definition.name, definition.version):
                raise ConflictError(
                    f"workflow '{definition.name}' version {definition.version} already exists; "
                    "register a new version or pass overwrite=true",
                    field="version",
                )
            place = f"[{i}]." if len(defs) > 1 else ""
            found.extend(place + w for w in check_workflow(tx, definition))
        answer = _answer([f"{d.name}:{d.version}" for d in defs], found, strict)
        for definition in defs:  # written only once every one is known to be accepted
            tx.put_workflow_def(definition.name, definition.version, definition.to_json(), now)
        return answer

    answer: JSONResponse = await orchestrator.store.write(unit)
    return answer


@router.post("/workflow", openapi_extra={"requestBody": _WORKFLOW_BODY})
async def post_workflow(
    request: Request, overwrite: str | None = Query(default=None), strict: str | None = _STRICT
) -> JSONResponse:
    """Register a workflow definition (Conductor: 409 if the version exists, unless overwrite).

    Answers ``{registered, warnings}``: what registered, and what looks like a slip (unknown
    fields, ``${workflow.<unknown>}``, a reference to a later task), each naming its field.
    """
    data = await read_json(request)
    items = _as_list(data, "workflow definition")
    return await _register_workflows(request, items, parse_bool(overwrite), strict)


@router.put("/workflow", openapi_extra={"requestBody": _WORKFLOW_BODY})
async def put_workflows(request: Request, strict: str | None = _STRICT) -> JSONResponse:
    """Create or replace workflow definitions (a list, or one); answered as the POST is."""
    data = await read_json(request)
    return await _register_workflows(request, _as_list(data, "workflow definition"), True, strict)


@router.get("/workflow")
async def list_workflows(request: Request) -> list[dict[str, Any]]:
    store = orchestrator_of(request).store
    found: list[dict[str, Any]] = await store.read(lambda tx: tx.list_workflow_defs())
    return found


@router.get("/workflow/names-and-versions")
async def names_and_versions(request: Request) -> dict[str, list[dict[str, Any]]]:
    """Conductor's ``{name: [WorkflowDefSummary]}``: every version, without the bodies."""
    summaries: dict[str, list[dict[str, Any]]] = {}
    for body in await _workflow_defs(request):
        summaries.setdefault(body["name"], []).append(_summary(body))
    return summaries


async def _workflow_defs(request: Request) -> list[dict[str, Any]]:
    store = orchestrator_of(request).store
    found: list[dict[str, Any]] = await store.read(lambda tx: tx.list_workflow_defs())
    return found  # by name, then version


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    """Conductor's ``WorkflowDefSummary``."""
    summary = {"name": body["name"], "version": body.get("version", 1)}
    if body.get("createTime") is not None:
        summary["createTime"] = body["createTime"]
    return summary


@router.get("/workflow/names")
async def workflow_names(request: Request) -> list[str]:
    """The name of every registered workflow, once each, in order."""
    return list(dict.fromkeys(body["name"] for body in await _workflow_defs(request)))


@router.get("/workflow/latest-versions")
async def latest_versions(request: Request) -> list[dict[str, Any]]:
    """The highest version of every registered workflow, as whole definitions."""
    latest: dict[str, dict[str, Any]] = {}
    for body in await _workflow_defs(request):
        latest[body["name"]] = body  # listed by version, so the last one stays
    return list(latest.values())


@router.get("/workflow/{name}/versions")
async def workflow_versions(name: str, request: Request) -> list[dict[str, Any]]:
    """Every version of ``name`` as ``WorkflowDefSummary``, lowest first."""
    found = [_summary(body) for body in await _workflow_defs(request) if body["name"] == name]
    if not found:
        raise DefinitionNotFoundError(f"no workflow definition '{name}'", field="name")
    return found


@router.post("/workflow/validate", openapi_extra={"requestBody": _WORKFLOW_BODY})
async def validate(request: Request) -> dict[str, Any]:
    """Check a workflow definition as registering it would, and register nothing: 400 naming
    the field at fault, or 200 with what registration would warn about."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ValidationError("the body must be a workflow definition", field="body")
    definition = read_model(WorkflowDef, data)
    warnings = validate_workflow(definition, await _templates(request, [definition]))
    check_fork_width(settings_of(request), definition, "")
    warnings.extend(lint_workflow(data, definition))
    found: list[str] = await orchestrator_of(request).store.read(
        lambda tx: check_workflow(tx, definition)
    )
    return {"valid": True, "warnings": warnings + found}


@router.get("/workflow/{name}")
async def get_workflow(name: str, request: Request, version: VersionQuery = None) -> dict[str, Any]:
    store = orchestrator_of(request).store
    found: dict[str, Any] | None = await store.read(lambda tx: tx.get_workflow_def(name, version))
    if found is None:
        which = f" version {version}" if version is not None else ""
        raise DefinitionNotFoundError(f"no workflow definition '{name}'{which}", field="name")
    return found


@router.delete("/workflow/{name}/{version}")
async def delete_workflow(name: str, version: VersionPath, request: Request) -> dict[str, Any]:
    store = orchestrator_of(request).store
    if not await store.write(lambda tx: tx.delete_workflow_def(name, version)):
        raise DefinitionNotFoundError(f"no workflow definition '{name}' version {version}")
    return {"deleted": f"{name}:{version}"}
