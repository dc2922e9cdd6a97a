"""Finding runs the way Conductor's clients do: by correlation id, and running runs by name."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from podium.engine.state import RunStatus
from podium.errors import ValidationError
from podium.server.requests import parse_bool, read_json
from podium.server.schemas import MillisQuery, VersionQuery
from podium.server.state import orchestrator_of
from podium.server.views import run_json
from podium.store.base import RunQuery, StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/workflow", tags=["workflow"])

_OPEN = (str(RunStatus.RUNNING), str(RunStatus.PAUSED))
_MAX_RUNS = 1000
_IDS_BODY = {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_SEARCH_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "title": "CorrelationIdsSearchRequest",
                "type": "object",
                "required": ["workflowNames", "correlationIds"],
                "properties": {"workflowNames": _STRINGS, "correlationIds": _STRINGS},
            }
        }
    },
    "required": True,
}


def _strings(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(f"{field} must be a list of strings", field=field)
    return value


async def _correlated(
    request: Request,
    names: list[str],
    correlation_ids: list[str],
    include_closed: bool,
    include_tasks: bool,
) -> dict[str, list[dict[str, Any]]]:
    """``{correlationId: [Workflow]}`` for every pair of name and correlation id."""
    statuses = () if include_closed else _OPEN

    def unit(tx: StoreTx) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for correlation_id in correlation_ids:
            runs = found.setdefault(correlation_id, [])
            for name in names:
                query = RunQuery(
                    name=name, correlation_id=correlation_id, statuses=statuses, size=_MAX_RUNS
                )
                for state in tx.search_runs(query)[1]:
                    entries = {e.task_id: e for e in tx.queue_entries(state.run_id)}
                    runs.append(run_json(state, entries, include_tasks=include_tasks))
        return found

    result: dict[str, list[dict[str, Any]]] = await orchestrator_of(request).store.read(unit)
    return result


@router.post("/correlated/batch", openapi_extra={"requestBody": _SEARCH_BODY})
async def correlated_batch(
    request: Request, includeClosed: str | None = None, includeTasks: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Runs of any of ``workflowNames`` with any of ``correlationIds``."""
    body = await read_json(request, empty={})
    if not isinstance(body, dict):
        raise ValidationError("the body must be a CorrelationIdsSearchRequest", field="body")
    names = _strings(body.get("workflowNames"), "workflowNames")
    ids = _strings(body.get("correlationIds"), "correlationIds")
    return await _correlated(
        request, names, ids, parse_bool(includeClosed), parse_bool(includeTasks)
    )


@router.get("/{name}/correlated/{correlation_id}")
async def correlated(
    name: str,
    correlation_id: str,
    request: Request,
    includeClosed: str | None = None,
    includeTasks: str | None = None,
) -> list[dict[str, Any]]:
    """The runs of ``name`` with this correlation id (open ones, unless ``includeClosed``)."""
    found = await _correlated(
        request, [name], [correlation_id], parse_bool(includeClosed), parse_bool(includeTasks)
    )
    return found[correlation_id]


@router.post("/{name}/correlated", openapi_extra={"requestBody": _IDS_BODY})
async def correlated_many(
    name: str,
    request: Request,
    includeClosed: str | None = None,
    includeTasks: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """``{correlationId: [Workflow]}`` for a list of correlation ids."""
    ids = _strings(await read_json(request, empty=[]), "body")
    return await _correlated(
        request, [name], ids, parse_bool(includeClosed), parse_bool(includeTasks)
    )


@router.get("/running/{name}")
async def running(
    name: str,
    request: Request,
    version: VersionQuery = None,
    startTime: MillisQuery = None,
    endTime: MillisQuery = None,
) -> list[str]:
    """Ids of the open runs of ``name`` (of one version, started in a window, if asked)."""
    query = RunQuery(
        name=name,
        statuses=_OPEN,
        started_after=startTime,
        started_before=endTime,
        size=_MAX_RUNS,
    )
    _, runs = await orchestrator_of(request).search(query, tasks=False)
    return [run.run_id for run in runs if version is None or run.version == version]
