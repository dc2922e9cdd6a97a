"""``/api/workflow``: start, inspect, search and operate on runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse

from podium.engine.events import PauseRun, ResumeRun, RetryRun, TerminateRun
from podium.errors import ValidationError
from podium.server.requests import parse_bool, read_json, read_model
from podium.server.schemas import StartWorkflowRequest
from podium.server.search import parse_search
from podium.server.state import orchestrator_of
from podium.server.views import run_json, summary_json

__all__ = ["router"]

router = APIRouter(prefix="/api/workflow", tags=["workflow"])

_FLAG_VALUES = frozenset({"", "true", "false", "1", "0", "yes", "no"})
_INPUT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}


@router.post("", response_class=PlainTextResponse)
async def start_with_request(request: Request) -> PlainTextResponse:
    """Start a run from Conductor's StartWorkflowRequest; answers the workflow id."""
    body = read_model(StartWorkflowRequest, await read_json(request, empty={}))
    run_id = await orchestrator_of(request).start_run(
        body.name,
        version=body.version,
        input=body.input,
        correlation_id=body.correlationId,
        idempotency_key=body.idempotencyKey or request.headers.get("idempotency-key"),
    )
    return PlainTextResponse(run_id)


@router.get("/search")
async def search(
    request: Request,
    start: int = 0,
    size: int = 100,
    query: str | None = None,
    freeText: str | None = None,
    name: str | None = None,
    status: str | None = None,
    correlationId: str | None = None,
    startedAfter: int | None = None,
    startedBefore: int | None = None,
) -> dict[str, Any]:
    """Find runs by name, status, correlation id and start time (newest first)."""
    run_query = parse_search(
        start=start,
        size=size,
        query=query,
        free_text=freeText,
        name=name,
        status=status,
        correlation_id=correlationId,
        started_after=startedAfter,
        started_before=startedBefore,
    )
    total, runs = await orchestrator_of(request).search(run_query)
    return {"totalHits": total, "results": [summary_json(run) for run in runs]}


@router.post(
    "/{name}", response_class=PlainTextResponse, openapi_extra={"requestBody": _INPUT_BODY}
)
async def start_by_name(
    name: str,
    request: Request,
    version: int | None = None,
    correlationId: str | None = None,
    idempotencyKey: str | None = None,
    idempotency_key_header: str | None = Header(default=None, alias="Idempotency-Key"),
) -> PlainTextResponse:
    """Start a run of ``name``; the body is its input. Answers the workflow id."""
    run_input = await read_json(request, empty={})
    if not isinstance(run_input, dict):
        raise ValidationError("the workflow input must be a JSON object", field="body")
    run_id = await orchestrator_of(request).start_run(
        name,
        version=version,
        input=run_input,
        correlation_id=correlationId,
        idempotency_key=idempotencyKey or idempotency_key_header,
    )
    return PlainTextResponse(run_id)


@router.get("/{workflow_id}")
async def get_run(
    workflow_id: str,
    request: Request,
    includeTasks: str | None = Query(default=None),
) -> dict[str, Any]:
    view = await orchestrator_of(request).get_run(workflow_id)
    return run_json(view.state, view.entries, include_tasks=parse_bool(includeTasks, True))


@router.delete("/{workflow_id}")
async def terminate(
    workflow_id: str,
    request: Request,
    reason: str | None = None,
    compensate: str | None = None,
) -> dict[str, Any]:
    """Stop a run; with ``compensate=true`` its completed steps are undone first."""
    undo = _flag(compensate, "compensate")
    state = await orchestrator_of(request).act(
        workflow_id, lambda now: TerminateRun(now, reason, compensate=undo)
    )
    return {"workflowId": workflow_id, "status": str(state.status)}


def _flag(value: str | None, name: str) -> bool:
    if value is not None and value.strip().lower() not in _FLAG_VALUES:
        raise ValidationError(f"{name} must be true or false, not {value!r}", field=name)
    return parse_bool(value)


@router.delete("/{workflow_id}/remove")
async def remove(workflow_id: str, request: Request) -> dict[str, Any]:
    await orchestrator_of(request).remove_run(workflow_id)
    return {"workflowId": workflow_id, "removed": True}


@router.put("/{workflow_id}/pause")
async def pause(workflow_id: str, request: Request) -> dict[str, Any]:
    state = await orchestrator_of(request).act(workflow_id, PauseRun)
    return {"workflowId": workflow_id, "status": str(state.status)}


@router.put("/{workflow_id}/resume")
async def resume(workflow_id: str, request: Request) -> dict[str, Any]:
    state = await orchestrator_of(request).act(workflow_id, ResumeRun)
    return {"workflowId": workflow_id, "status": str(state.status)}


@router.post("/{workflow_id}/retry")
async def retry(workflow_id: str, request: Request) -> dict[str, Any]:
    state = await orchestrator_of(request).act(workflow_id, RetryRun)
    return {"workflowId": workflow_id, "status": str(state.status)}


@router.post("/{workflow_id}/restart")
async def restart(
    workflow_id: str,
    request: Request,
    useLatestDefinitions: str | None = None,
) -> dict[str, Any]:
    """Run an ended run again from the start, with its id and input."""
    state = await orchestrator_of(request).restart_run(
        workflow_id, use_latest_definition=parse_bool(useLatestDefinitions)
    )
    return {"workflowId": workflow_id, "status": str(state.status), "version": state.version}
