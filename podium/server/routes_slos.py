"""``/api/slos``: SLOs as data, versioned, with their current value, budget and burn rates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from podium.errors import DefinitionNotFoundError, ValidationError
from podium.server.requests import read_json
from podium.server.state import orchestrator_of
from podium.slo.model import parse_slo
from podium.slo.report import SloReport, SloReports, report
from podium.store.base import StoreTx

__all__ = ["reports_of", "router", "slo_reports"]

router = APIRouter(prefix="/api/slos", tags=["slos"])

_BODY = {"content": {"application/json": {"schema": {"type": ["object", "array"]}}}}


def reports_of(request: Request) -> SloReports:
    """The app's cache of reports, for ``/metrics``."""
    state = request.app.state
    if not hasattr(state, "slo_reports"):
        state.slo_reports = SloReports()
    kept: SloReports = state.slo_reports
    return kept


async def slo_reports(request: Request, *, cached: bool) -> list[SloReport]:
    """Every SLO's report now (or as computed a moment ago, if ``cached``)."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    kept = reports_of(request)
    if cached and (fresh := kept.fresh(now)) is not None:
        return fresh

    def unit(tx: StoreTx) -> list[SloReport]:
        return [report(tx, row, now) for row in tx.list_slos()]

    found: list[SloReport] = await orchestrator.store.read(unit)
    kept.keep(now, found)
    return found


@router.post("", openapi_extra={"requestBody": _BODY})
async def push_slos(request: Request) -> dict[str, list[str]]:
    """Register SLOs (one, or a list), all or none. A body that differs from an SLO's latest
    version is stored as its next version; the same body again changes nothing."""
    data = await read_json(request)
    items = data if isinstance(data, list) else [data]
    if data is None or not items:
        raise ValidationError("the body must be an SLO or a list of them", field="body")
    slos = [
        parse_slo(item, f"[{i}]" if isinstance(data, list) else "") for i, item in enumerate(items)
    ]
    names = [slo.name for slo in slos]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ValidationError(f"SLO {name!r} appears twice in the body", field=f"[{i}].name")
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {"registered": [], "unchanged": []}
        for slo in slos:
            version = tx.put_slo(slo.name, slo.to_json(), now)
            if version is None:
                result["unchanged"].append(slo.name)
            else:
                result["registered"].append(f"{slo.name}@{version}")
        return result

    pushed: dict[str, list[str]] = await orchestrator.store.write(unit)
    reports_of(request).forget()
    return pushed


@router.get("")
async def list_slos(
    request: Request,
    workflow: str | None = Query(default=None),
    service: str | None = Query(default=None),
) -> list[dict[str, Any]]:
    """Every SLO at its latest version with its status (of a workflow or service if asked),
    as computed at most 15 s ago: the UI polls this, and ``/metrics`` shares the reports."""
    found = await slo_reports(request, cached=True)
    return [
        r.to_json()
        for r in found
        if (workflow is None or r.slo.workflow == workflow)
        and (service is None or r.slo.service == service)
    ]


@router.get("/{name}/versions")
async def list_versions(name: str, request: Request) -> list[dict[str, Any]]:
    """Every version of one SLO, oldest first, as registered."""
    store = orchestrator_of(request).store
    rows = await store.read(lambda tx: tx.list_slo_versions(name))
    if not rows:
        raise DefinitionNotFoundError(f"no SLO '{name}'", field="name")
    return [{**row.body, "version": row.version, "createdAt": row.created_at} for row in rows]


@router.get("/{name}")
async def get_slo(
    name: str, request: Request, version: int | None = Query(default=None, ge=1, le=2**31 - 1)
) -> dict[str, Any]:
    """One SLO (its latest version unless ``version``) with its value, error budget
    remaining and burn rates now."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> SloReport | None:
        row = tx.get_slo(name, version)
        return report(tx, row, now) if row is not None else None

    found: SloReport | None = await orchestrator.store.read(unit)
    if found is None:
        which = f" version {version}" if version is not None else ""
        raise DefinitionNotFoundError(f"no SLO '{name}'{which}", field="name")
    return found.to_json()


@router.delete("/{name}")
async def delete_slo(name: str, request: Request) -> dict[str, str]:
    """Remove an SLO with every version; the outcomes it was computed from stay."""
    store = orchestrator_of(request).store
    if not await store.write(lambda tx: tx.delete_slo(name)):
        raise DefinitionNotFoundError(f"no SLO '{name}'", field="name")
    reports_of(request).forget()
    return {"deleted": name}
