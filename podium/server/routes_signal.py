"""The signal API (``/api/tasks/{workflow_id}/{status}/signal``): finish the task a run waits
on without naming it.

The path has the shape of ``/api/tasks/{workflow_id}/{ref}/{status}``, so this router goes
before the task routes (``app.py``); otherwise a signal would be read as a task named for the
status with the status ``signal``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from podium.auth.scope import caller_id
from podium.dsl.models import TaskType
from podium.engine.state import RunState, TaskState
from podium.errors import ConflictError, ValidationError, WorkflowNotFoundError
from podium.server import fencing
from podium.server.access import check_sync, task_check
from podium.server.limits import check_task_output, settings_of
from podium.server.requests import read_signal
from podium.server.state import orchestrator_of
from podium.server.views import run_json
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

_OUTPUT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
# What a run waits on from outside; the engine finishes the others itself.
_SIGNALLED = frozenset({TaskType.WAIT, TaskType.HUMAN, TaskType.SIMPLE})
_MAX_DEPTH = 20  # sub-workflows followed down to the task that waits
_RETURN_STRATEGIES = ("TARGET_WORKFLOW",)


def _read_run(tx: StoreTx, run_id: str) -> tuple[RunState, str] | None:
    return tx.get_run(run_id)


def _waiting(state: RunState) -> list[TaskState]:
    return [t for t in state.active_tasks() if t.type in _SIGNALLED | {TaskType.SUB_WORKFLOW}]


async def _target(request: Request, workflow_id: str) -> tuple[str, TaskState]:
    """The run, this one or a sub-workflow it waits on, and the one task there that waits for
    a signal; 409 when none does or several do (name it then: ``/{workflow_id}/{ref}/...``)."""
    store = orchestrator_of(request).store
    run_id = workflow_id
    for _ in range(_MAX_DEPTH):
        found: tuple[RunState, str] | None = await store.read(partial(_read_run, run_id=run_id))
        if found is None:
            raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")
        state = found[0]
        waiting = _waiting(state)
        if len(waiting) != 1:
            which = ", ".join(t.ref for t in waiting) if waiting else "none"
            raise ConflictError(
                f"workflow {run_id} ({state.status}) must wait on exactly one task to be "
                f"signalled, and waits on {which}: signal a task by its reference name with "
                f"POST /api/tasks/{run_id}/{{ref}}/{{status}}",
                service="server",
                field="workflowId",
            )
        [task] = waiting
        if task.type != TaskType.SUB_WORKFLOW:
            return run_id, task
        if task.sub_workflow_id is None:
            raise ConflictError(
                f"task '{task.ref}' of workflow {run_id} has not started its sub-workflow yet",
                service="server",
                field="workflowId",
            )
        run_id = task.sub_workflow_id
    raise ConflictError(
        f"workflow {workflow_id} nests sub-workflows deeper than {_MAX_DEPTH}", service="server"
    )


async def _signal(request: Request, workflow_id: str, status: str) -> str:
    """Finish the waiting task; answers the id of the run it belongs to."""
    task_status, output = await read_signal(request, status)
    run_id, task = await _target(request, workflow_id)
    check_task_output(settings_of(request), f"'{task.ref}' of workflow {run_id}", output)
    await orchestrator_of(request).signal(
        run_id,
        task.ref,
        task_status,
        output,
        caller_key=caller_id(request.scope) or fencing.OPEN,
        check=task_check(request),
    )
    return run_id


@router.post(
    "/{workflow_id}/{status}/signal",
    response_class=PlainTextResponse,
    openapi_extra={"requestBody": _OUTPUT_BODY},
)
async def signal(workflow_id: str, status: str, request: Request) -> PlainTextResponse:
    """Finish the one task the run (or the sub-workflow it waits on) waits on, with the body
    as its output; answers the id of the run that task belongs to."""
    return PlainTextResponse(await _signal(request, workflow_id, status))


@router.post("/{workflow_id}/{status}/signal/sync", openapi_extra={"requestBody": _OUTPUT_BODY})
async def signal_sync(
    workflow_id: str, status: str, request: Request, returnStrategy: str | None = None
) -> dict[str, Any]:
    """As ``signal``, answering the run whose task was signalled as it stands after
    (Conductor's ``SignalResponse`` with ``returnStrategy=TARGET_WORKFLOW``)."""
    strategy = (returnStrategy or "TARGET_WORKFLOW").upper()
    if strategy not in _RETURN_STRATEGIES:
        raise ValidationError(
            f"returnStrategy {returnStrategy} is not served: use {', '.join(_RETURN_STRATEGIES)}",
            field="returnStrategy",
        )
    check_sync(request)
    run_id = await _signal(request, workflow_id, status)
    view = await orchestrator_of(request).get_run(run_id)
    body = run_json(view.state, view.entries)
    return {
        **body,
        "responseType": strategy,
        "targetWorkflowId": run_id,
        "targetWorkflowStatus": body["status"],
    }
