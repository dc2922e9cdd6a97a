"""``/api/workflow``: start, inspect, search and operate on runs."""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import PlainTextResponse, Response

from podium.auth.scope import caller_id
from podium.dsl.bounds import INT4_MAX
from podium.engine.events import (
    PauseRun,
    RerunRun,
    ResumeRun,
    RetryRun,
    SkipTask,
    TerminateRun,
    UpdateVariables,
)
from podium.engine.state import RunState
from podium.errors import ConflictError, ValidationError, WorkflowNotFoundError
from podium.server.access import check_inline
from podium.server.diagnostics import waiting_diagnostics
from podium.server.limits import check_fork_width, check_run_input, settings_of
from podium.server.requests import inline_definition, parse_bool, read_json, read_model
from podium.server.schemas import (
    RerunWorkflowRequest,
    SearchParams,
    SkipTaskRequest,
    StartWorkflowRequest,
    VersionQuery,
    inline_schema,
)
from podium.server.search import parse_search
from podium.server.state import orchestrator_of
from podium.server.task_pages import TaskQuery, step_counts, task_page
from podium.server.units import RunView
from podium.server.views import run_json, summary_json
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/workflow", tags=["workflow"])

_MAX_TASK_PAGE = 1000
_MAX_REF_PREFIX = 1000
_FLAG_VALUES = frozenset({"", "true", "false", "1", "0", "yes", "no"})
_INPUT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
_START_BODY = {
    "content": {"application/json": {"schema": inline_schema(StartWorkflowRequest)}},
    "required": True,
}
_RERUN_BODY = {"content": {"application/json": {"schema": inline_schema(RerunWorkflowRequest)}}}
_SKIP_BODY = {"content": {"application/json": {"schema": inline_schema(SkipTaskRequest)}}}


@router.post("", response_class=PlainTextResponse, openapi_extra={"requestBody": _START_BODY})
async def start_with_request(request: Request) -> PlainTextResponse:
    """Start a run from Conductor's StartWorkflowRequest; answers the workflow id."""
    body = read_model(StartWorkflowRequest, await read_json(request, empty={}))
    settings = settings_of(request)
    check_run_input(settings, body.name, body.input)
    if body.workflowDef is not None:
        check_inline(request)  # refused before the definition is even read
    definition = await inline_definition(request, body)
    if definition is not None:
        check_fork_width(settings, definition, "workflowDef.")
    run_id = await orchestrator_of(request).start_run(
        body.name,
        version=body.version,
        input=body.input,
        correlation_id=body.correlationId,
        idempotency_key=body.idempotencyKey or request.headers.get("idempotency-key"),
        definition=definition,
        created_by=caller_id(request.scope),
        task_to_domain=body.taskToDomain,
        priority=body.priority or 0,
    )
    return PlainTextResponse(run_id)


async def _search(
    request: Request, params: SearchParams, *, tasks: bool
) -> tuple[int, list[RunState]]:
    query = parse_search(
        start=params.start,
        size=params.size,
        query=params.query,
        free_text=params.freeText,
        name=params.name,
        status=params.status,
        correlation_id=params.correlationId,
        started_after=params.startedAfter,
        started_before=params.startedBefore,
        sort=params.sort,
    )
    return await orchestrator_of(request).search(query, tasks=tasks)


@router.get("/search")
async def search(request: Request, params: Annotated[SearchParams, Query()]) -> dict[str, Any]:
    """Find runs by name, status, correlation id and start time (newest first)."""
    total, runs = await _search(request, params, tasks=False)  # a summary shows no task
    return {"totalHits": total, "results": [summary_json(run) for run in runs]}


@router.get("/search-v2")
async def search_v2(request: Request, params: Annotated[SearchParams, Query()]) -> dict[str, Any]:
    """As ``search``, with each hit as a whole ``Workflow`` (without its tasks)."""
    # Without tasks in the answer, but ``failedTaskNames`` comes from the failed ones.
    total, runs = await _search(request, params, tasks=True)
    results = [run_json(run, {}, include_tasks=False) for run in runs]
    return {"totalHits": total, "results": results}


@router.post(
    "/{name}", response_class=PlainTextResponse, openapi_extra={"requestBody": _INPUT_BODY}
)
async def start_by_name(
    name: str,
    request: Request,
    version: VersionQuery = None,
    correlationId: str | None = None,
    priority: int = Query(default=0, ge=0, le=99),
    idempotencyKey: str | None = None,
    idempotency_key_header: str | None = Header(default=None, alias="Idempotency-Key"),
) -> PlainTextResponse:
    """Start a run of ``name``; the body is its input. Answers the workflow id."""
    run_input = await read_json(request, empty={}, field="input")
    if not isinstance(run_input, dict):
        raise ValidationError("the workflow input must be a JSON object", field="body")
    check_run_input(settings_of(request), name, run_input)
    run_id = await orchestrator_of(request).start_run(
        name,
        version=version,
        input=run_input,
        correlation_id=correlationId,
        idempotency_key=idempotencyKey or idempotency_key_header,
        created_by=caller_id(request.scope),
        priority=priority,
    )
    return PlainTextResponse(run_id)


@router.get("/{workflow_id}")
async def get_run(
    workflow_id: str,
    request: Request,
    includeTasks: str | None = Query(default=None),
) -> dict[str, Any]:
    view = await orchestrator_of(request).get_run(workflow_id)
    return _run_body(request, view, include_tasks=parse_bool(includeTasks, True))


def _run_body(request: Request, view: RunView, *, include_tasks: bool) -> dict[str, Any]:
    body = run_json(view.state, view.entries, include_tasks=include_tasks, blames=view.blames)
    # Podium's addition: what holds the run up, e.g. a task type no worker polls.
    threshold_ms = int(settings_of(request).no_worker_warning_s * 1000)
    clock = orchestrator_of(request).clock()
    body["diagnostics"] = waiting_diagnostics(
        view.state, view.entries, request.app.state.poll_log, clock, threshold_ms
    )
    return body


@router.get("/{workflow_id}/status")
async def get_status(
    workflow_id: str,
    request: Request,
    includeOutput: str | None = None,
    includeVariables: str | None = None,
) -> dict[str, Any]:
    """Conductor's ``WorkflowStatus``: the run's status, and its output and variables if asked."""
    view = await orchestrator_of(request).get_run(workflow_id)
    state = view.state
    body: dict[str, Any] = {
        "workflowId": state.run_id,
        "correlationId": state.shown_correlation_id,
        "status": str(state.status),
    }
    if parse_bool(includeOutput):
        body["output"] = state.output
    if parse_bool(includeVariables):
        body["variables"] = state.variables
    return body


@router.put("/decide/{workflow_id}")
async def decide(workflow_id: str, request: Request) -> Response:
    """Conductor's manual decide: Podium decides on every event, so only the run must exist."""
    await orchestrator_of(request).get_run(workflow_id)
    return Response(status_code=204)


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


@router.delete("/{workflow_id}/terminate-remove")
async def terminate_remove(
    workflow_id: str, request: Request, reason: str | None = None
) -> dict[str, Any]:
    """Stop the run if it is still going, then remove it, as ``DELETE .../remove`` does."""
    orchestrator = orchestrator_of(request)
    view = await orchestrator.get_run(workflow_id)
    if not view.state.status.is_terminal:
        with contextlib.suppress(ConflictError):  # it ended meanwhile: removed all the same
            await orchestrator.act(workflow_id, lambda now: TerminateRun(now, reason))
    await orchestrator.remove_run(workflow_id)
    return {"workflowId": workflow_id, "removed": True}


def _task_page_query(
    start: int = Query(default=0, ge=0, le=INT4_MAX),
    count: int = Query(default=15, ge=0, le=_MAX_TASK_PAGE),
    status: Annotated[list[str] | None, Query()] = None,
    refPrefix: str | None = Query(default=None, max_length=_MAX_REF_PREFIX),
    iteration: int | None = Query(default=None, ge=0, le=INT4_MAX),
    taskReferenceName: str | None = Query(default=None, max_length=_MAX_REF_PREFIX),
) -> _Page:
    """The page of tasks asked for (``/tasks`` and ``/overview``): filters, start, count."""
    return TaskQuery.parse(status, refPrefix, iteration, taskReferenceName), start, count


_Page = tuple[TaskQuery, int, int]


@router.get("/{workflow_id}/tasks")
async def list_tasks(
    workflow_id: str, request: Request, page: Annotated[_Page, Depends(_task_page_query)]
) -> dict[str, Any]:
    """A page of the run's tasks in the order they were scheduled, of the given statuses
    (any, by default), with how many there are of each status (``TaskListSearchResultSummary``).
    Podium adds filters: ``refPrefix`` (reference names that start so), ``iteration`` (tasks of
    that DO_WHILE iteration, as their ``iteration`` field says) and ``taskReferenceName`` (one
    step's tasks: of that name, or of every iteration of the step of that name)."""
    view = await orchestrator_of(request).get_run(workflow_id)
    return task_page(view, *page)


@router.get("/{workflow_id}/overview")
async def overview(
    workflow_id: str, request: Request, page: Annotated[_Page, Depends(_task_page_query)]
) -> dict[str, Any]:
    """Podium's addition, for a page showing a big run: from one read of the run, the run
    without its tasks (``workflow``), a page of its tasks as ``/tasks`` gives it (``tasks``)
    and its tasks counted by step (``counts``, as ``/task-counts``). Reading a run of
    thousands of tasks costs more than what is answered, so it is read once."""
    view = await orchestrator_of(request).get_run(workflow_id)
    return {
        "workflow": _run_body(request, view, include_tasks=False),
        "tasks": task_page(view, *page),
        "counts": step_counts(view),
    }


@router.get("/{workflow_id}/task-counts")
async def task_counts(workflow_id: str, request: Request) -> dict[str, Any]:
    """Podium's addition: the run's tasks counted by step and status, and each dynamic fork's
    branches, so that a run of thousands of tasks can be drawn without reading them all."""
    return step_counts(await orchestrator_of(request).get_run(workflow_id))


@router.post("/{workflow_id}/resetcallbacks")
async def reset_callbacks(workflow_id: str, request: Request) -> dict[str, Any]:
    """Hand out again now the run's tasks whose workers asked to be called back later
    (``callbackAfterSeconds``), as if their wait were over; answers their ids."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> list[str]:
        found = tx.get_run(workflow_id, for_update=True)
        if found is None:
            raise WorkflowNotFoundError(f"no workflow run has id {workflow_id}", service="server")
        state = found[0]
        reset: list[str] = []
        for entry in tx.queue_entries(workflow_id):
            task = state.task(entry.task_id)
            if task is None or not task.callback_after_s or task.update_at is None:
                continue
            # A postponed task waits unleased until exactly where its report put it; one
            # claimed again since is leased.
            postponed_until = task.update_at + task.callback_after_s * 1000
            if (
                entry.lease_owner is None
                and entry.available_at == postponed_until
                and postponed_until > now
            ):
                # The wait ends now: the sweeper announces the task as when it is over.
                tx.release_lease(entry.task_id, now)
                reset.append(entry.task_id)
        return reset

    reset: list[str] = await orchestrator.store.write(unit)
    if reset:
        orchestrator.on_timer_added()
    return {"workflowId": workflow_id, "reset": reset}


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


@router.post(
    "/{workflow_id}/rerun",
    response_class=PlainTextResponse,
    openapi_extra={"requestBody": _RERUN_BODY},
)
async def rerun(workflow_id: str, request: Request) -> PlainTextResponse:
    """Run an ended run again from one of its tasks (``reRunFromTaskId``), or from the start."""
    body = read_model(RerunWorkflowRequest, await read_json(request, empty={}))
    if body.reRunFromWorkflowId not in (None, "", workflow_id):
        raise ValidationError(
            f"reRunFromWorkflowId {body.reRunFromWorkflowId} is not the workflow in the path",
            field="reRunFromWorkflowId",
        )
    event = partial(
        RerunRun,
        task_id=body.reRunFromTaskId or None,
        task_input=body.taskInput,
        workflow_input=body.workflowInput,
    )
    await orchestrator_of(request).act(workflow_id, event)
    return PlainTextResponse(workflow_id)


@router.put(
    "/{workflow_id}/skiptask/{task_reference_name}", openapi_extra={"requestBody": _SKIP_BODY}
)
async def skip_task(workflow_id: str, task_reference_name: str, request: Request) -> Response:
    """Skip a step: an active task ends SKIPPED now; a step not reached yet is skipped then."""
    body = read_model(SkipTaskRequest, await read_json(request, empty={}))
    event = partial(
        SkipTask,
        ref=task_reference_name,
        input=body.taskInput or {},
        output=body.taskOutput or {},
    )
    await orchestrator_of(request).act(workflow_id, event)
    return Response(status_code=204)


@router.post("/{workflow_id}/variables", openapi_extra={"requestBody": _INPUT_BODY})
async def update_variables(workflow_id: str, request: Request) -> dict[str, Any]:
    """Merge the body into an open run's variables; answers the run."""
    variables = await read_json(request, empty={}, field="variables")
    if not isinstance(variables, dict):
        raise ValidationError("the variables must be a JSON object", field="body")
    orchestrator = orchestrator_of(request)
    await orchestrator.act(workflow_id, partial(UpdateVariables, variables=variables))
    view = await orchestrator.get_run(workflow_id)
    return run_json(view.state, view.entries)


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
