"""Task searches: ``/api/tasks/search`` and ``/api/workflow/search-by-tasks`` (and their v2).

Their paths are literal siblings of ``/api/tasks/{task_id}`` and ``/api/workflow/{workflow_id}``,
so this router goes before those (``app.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from podium.auth.scope import caller, task_limited
from podium.server.access import scope_type
from podium.server.schemas import TaskSearchParams
from podium.server.state import orchestrator_of
from podium.server.task_search import TaskHit, parse_task_search, search_tasks
from podium.server.views import run_json, summary_json, task_summary_json

__all__ = ["router"]

router = APIRouter(tags=["search"])


async def _hits(request: Request, params: TaskSearchParams) -> list[TaskHit]:
    search = parse_task_search(
        start=params.start,
        size=params.size,
        query=params.query,
        free_text=params.freeText,
        sort=params.sort,
    )
    store = orchestrator_of(request).store
    hits: list[TaskHit] = await store.read(lambda tx: search_tasks(tx, search))
    key = caller(request.scope)
    if key is not None and task_limited(key):
        # A key limited to task types finds only tasks of those types, as it reads them.
        hits = [hit for hit in hits if scope_type(hit.task) in key.task_types]
    return hits


def _page(items: list[Any], params: TaskSearchParams) -> list[Any]:
    return items[params.start : params.start + params.size]


@router.get("/api/tasks/search")
async def search_tasks_route(
    request: Request, params: Annotated[TaskSearchParams, Query()]
) -> dict[str, Any]:
    """Conductor's ``SearchResult<TaskSummary>``: tasks by ``query`` (``taskType``, ``status``,
    ``workflowId``, ``workflowType``, ``correlationId``, ``taskId``, times), ``freeText`` (an
    id, type or reference name) and ``sort``."""
    hits = await _hits(request, params)
    page = _page(hits, params)
    return {"totalHits": len(hits), "results": [task_summary_json(hit.body) for hit in page]}


@router.get("/api/tasks/search-v2")
async def search_tasks_v2(
    request: Request, params: Annotated[TaskSearchParams, Query()]
) -> dict[str, Any]:
    """As ``search``, with each hit as a whole ``Task`` (``SearchResult<Task>``)."""
    hits = await _hits(request, params)
    return {"totalHits": len(hits), "results": [hit.body for hit in _page(hits, params)]}


async def _runs_by_tasks(request: Request, params: TaskSearchParams) -> list[TaskHit]:
    """One hit per run, the first of its tasks in the search's order."""
    firsts: dict[str, TaskHit] = {}
    for hit in await _hits(request, params):
        firsts.setdefault(hit.run.run_id, hit)
    return list(firsts.values())


@router.get("/api/workflow/search-by-tasks")
async def search_by_tasks(
    request: Request, params: Annotated[TaskSearchParams, Query()]
) -> dict[str, Any]:
    """Runs that have a task matching the task search (``SearchResult<WorkflowSummary>``)."""
    runs = await _runs_by_tasks(request, params)
    page = _page(runs, params)
    return {"totalHits": len(runs), "results": [summary_json(hit.run) for hit in page]}


@router.get("/api/workflow/search-by-tasks-v2")
async def search_by_tasks_v2(
    request: Request, params: Annotated[TaskSearchParams, Query()]
) -> dict[str, Any]:
    """As ``search-by-tasks``, with each hit as a whole ``Workflow`` without its tasks."""
    runs = await _runs_by_tasks(request, params)
    results = [run_json(hit.run, {}, include_tasks=False) for hit in _page(runs, params)]
    return {"totalHits": len(runs), "results": results}
