"""Start a run and wait for it: ``POST /api/workflow/execute/{name}/{version}`` (Orkes' form).

The caller gets the run as a ``WorkflowRun`` once it ends, once the task ``waitUntilTaskRef``
is reached, or after ``waitForSeconds`` (then still RUNNING, as Orkes answers).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request

from podium.auth.scope import caller_id
from podium.resilience.backoff import Backoff
from podium.server.access import check_inline
from podium.server.limits import check_fork_width, check_run_input, settings_of
from podium.server.orchestrator import RunView
from podium.server.requests import inline_definition, read_json, read_model
from podium.server.schemas import StartWorkflowRequest, VersionPath, inline_schema
from podium.server.state import orchestrator_of
from podium.server.views import run_json

__all__ = ["router"]

router = APIRouter(prefix="/api/workflow", tags=["workflow"])

_MAX_WAIT_S = 300
_FIRST_CHECK_S = 0.005
_LONGEST_CHECK_S = 0.1


def _body_schema() -> dict[str, Any]:
    """A StartWorkflowRequest without the name and version, which the path gives."""
    schema = inline_schema(StartWorkflowRequest)
    for key in ("name", "version"):
        schema["properties"].pop(key)
    schema.pop("required", None)
    return schema


_BODY = {"content": {"application/json": {"schema": _body_schema()}}}


def _done(view: RunView, wait_until_refs: set[str]) -> bool:
    if view.state.status.is_terminal:
        return True
    return any(task.ref in wait_until_refs for task in view.state.tasks)


@router.post("/execute/{name}/{version}", openapi_extra={"requestBody": _BODY})
async def execute(
    name: str,
    version: VersionPath,
    request: Request,
    requestId: str | None = None,
    waitUntilTaskRef: str | None = None,
    waitForSeconds: int = 10,
) -> dict[str, Any]:
    """Start ``name`` at ``version`` and answer the run once it ends (or the wait is over)."""
    data = await read_json(request, empty={})
    if isinstance(data, dict):
        data = {**data, "name": name, "version": version}
    body = read_model(StartWorkflowRequest, data)
    settings = settings_of(request)
    check_run_input(settings, name, body.input)
    if body.workflowDef is not None:
        check_inline(request)  # refused before the definition is even read
    definition = await inline_definition(request, body)
    if definition is not None:
        check_fork_width(settings, definition, "workflowDef.")
    orchestrator = orchestrator_of(request)
    run_id = await orchestrator.start_run(
        name,
        version=version,
        input=body.input,
        correlation_id=body.correlationId,
        idempotency_key=body.idempotencyKey or request.headers.get("idempotency-key"),
        definition=definition,
        created_by=caller_id(request.scope),
        task_to_domain=body.taskToDomain,
        priority=body.priority or 0,
    )
    refs = {ref.strip() for ref in (waitUntilTaskRef or "").split(",") if ref.strip()}
    deadline = time.monotonic() + min(max(waitForSeconds, 0), _MAX_WAIT_S)
    pauses = Backoff(_FIRST_CHECK_S, _LONGEST_CHECK_S)
    # Runs are not watched for changes: polling the run costs one read, and a short run is
    # answered within milliseconds of ending while a long one is read a few times a second.
    view = await orchestrator.get_run(run_id)
    while not _done(view, refs) and time.monotonic() < deadline:
        await asyncio.sleep(pauses.next())
        view = await orchestrator.get_run(run_id)
    run = run_json(view.state, view.entries)
    run["requestId"] = requestId
    run["responseType"] = "TARGET_WORKFLOW"
    run["targetWorkflowId"] = run_id
    run["targetWorkflowStatus"] = run["status"]
    return run
