"""``/api/workflow/bulk``: pause, resume, retry, restart or terminate many runs at once.

Each run is its own unit of work: one that cannot be acted on is reported in
``bulkErrorResults`` and does not hold back the others, as in Conductor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request

from podium.engine.events import PauseRun, ResumeRun, RetryRun, TerminateRun
from podium.errors import PodiumError, ValidationError
from podium.server.orchestrator import Orchestrator
from podium.server.requests import parse_bool, read_json
from podium.server.state import orchestrator_of

__all__ = ["router"]

router = APIRouter(prefix="/api/workflow/bulk", tags=["workflow"])

_MAX_IDS = 1000
_IDS_BODY = {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}

Action = Callable[[Orchestrator, str], Awaitable[Any]]


async def _bulk(request: Request, action: Action) -> dict[str, Any]:
    ids = await read_json(request, empty=[])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValidationError("the body must be a list of workflow ids", field="body")
    if len(ids) > _MAX_IDS:
        raise ValidationError(f"at most {_MAX_IDS} workflow ids at once", field="body")
    orchestrator = orchestrator_of(request)
    done: list[str] = []
    errors: dict[str, str] = {}
    for workflow_id in ids:
        try:
            await action(orchestrator, workflow_id)
        except PodiumError as exc:
            errors[workflow_id] = exc.message
        else:
            done.append(workflow_id)
    return {"bulkSuccessfulResults": done, "bulkErrorResults": errors}


def _event(make: Callable[[int], Any]) -> Action:
    async def act(orchestrator: Orchestrator, workflow_id: str) -> Any:
        return await orchestrator.act(workflow_id, make)

    return act


@router.put("/pause", openapi_extra={"requestBody": _IDS_BODY})
async def pause(request: Request) -> dict[str, Any]:
    return await _bulk(request, _event(PauseRun))


@router.put("/resume", openapi_extra={"requestBody": _IDS_BODY})
async def resume(request: Request) -> dict[str, Any]:
    return await _bulk(request, _event(ResumeRun))


@router.post("/retry", openapi_extra={"requestBody": _IDS_BODY})
async def retry(request: Request) -> dict[str, Any]:
    return await _bulk(request, _event(RetryRun))


@router.post("/restart", openapi_extra={"requestBody": _IDS_BODY})
async def restart(request: Request, useLatestDefinitions: str | None = None) -> dict[str, Any]:
    latest = parse_bool(useLatestDefinitions)

    async def act(orchestrator: Orchestrator, workflow_id: str) -> Any:
        return await orchestrator.restart_run(workflow_id, use_latest_definition=latest)

    return await _bulk(request, act)


@router.post("/terminate", openapi_extra={"requestBody": _IDS_BODY})
async def terminate(request: Request, reason: str | None = None) -> dict[str, Any]:
    return await _bulk(request, _event(partial(TerminateRun, reason=reason)))
