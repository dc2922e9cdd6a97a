"""``/api/contracts``: the contract registry (JSON Schemas of tasks, workflows and events)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from podium.contracts import catalogue, registry
from podium.contracts.binding import SchemaRef
from podium.contracts.model import KINDS, Contract, parse_contract, parse_semver
from podium.errors import DefinitionNotFoundError, ValidationError
from podium.server.requests import parse_bool, read_json
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/contracts", tags=["contracts"])

_BODY = {"content": {"application/json": {"schema": {"type": ["object", "array"]}}}}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}", field="kind")
    return kind


@router.post("", openapi_extra={"requestBody": _BODY})
async def push_contracts(request: Request) -> dict[str, list[str]]:
    """Register contract versions (one, or a list). All or none: a version already stored
    with different content is refused (409) and nothing is registered."""
    data = await read_json(request)
    items = data if isinstance(data, list) else [data]
    if data is None or not items:
        raise ValidationError("the body must be a contract or a list of them", field="body")
    contracts = [
        parse_contract(item, f"[{i}]" if isinstance(data, list) else "")
        for i, item in enumerate(items)
    ]
    seen: set[tuple[str, str, str]] = set()
    for i, contract in enumerate(contracts):
        key = (contract.kind, contract.name, str(contract.version))
        if key in seen:
            raise ValidationError(f"{contract.label} appears twice in the body", field=f"[{i}]")
        seen.add(key)
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {"registered": [], "unchanged": []}
        for contract in contracts:
            stored = registry.push(tx, contract, now)
            label = f"{contract.kind}/{contract.name}@{contract.version}"
            result["registered" if stored else "unchanged"].append(label)
        return result

    pushed: dict[str, list[str]] = await orchestrator.store.write(unit)
    return pushed


@router.get("")
async def list_contracts(
    request: Request,
    kind: str | None = Query(default=None),
    allVersions: str | None = Query(default=None),
) -> list[dict[str, Any]]:
    """Every contract at its latest version (or every version), by kind and name."""
    if kind is not None:
        _kind(kind)
    latest_only = not parse_bool(allVersions)
    store = orchestrator_of(request).store
    found: list[dict[str, Any]] = await store.read(
        lambda tx: tx.list_contracts(kind, latest_only=latest_only)
    )
    return found


@router.get("/catalogue")
async def get_catalogue(request: Request, format: str = Query(default="md")) -> Response:
    """The catalogue of services, their tasks and contracts, as Markdown or HTML."""
    if format not in ("md", "html"):
        raise ValidationError(f"format must be md or html, not {format!r}", field="format")

    def unit(tx: StoreTx) -> catalogue.Score:
        contracts = [parse_contract(body) for body in tx.list_contracts(None, latest_only=True)]
        return catalogue.Score.build(contracts, tx.list_task_defs(), tx.list_workflow_defs())

    score: catalogue.Score = await orchestrator_of(request).store.read(unit)
    if format == "html":
        return HTMLResponse(catalogue.to_html(score))
    return PlainTextResponse(catalogue.to_markdown(score), media_type="text/markdown")


@router.get("/{kind}/{name}/versions")
async def list_versions(kind: str, name: str, request: Request) -> list[str]:
    _kind(kind)
    store = orchestrator_of(request).store
    found: list[str] = await store.read(lambda tx: tx.list_contract_versions(kind, name))
    if not found:
        raise DefinitionNotFoundError(f"no {kind} contract '{name}'", field="name")
    return found


@router.get("/{kind}/{name}")
async def get_contract(
    kind: str, name: str, request: Request, version: str | None = Query(default=None)
) -> dict[str, Any]:
    """The latest version, or the latest that ``version`` selects (``1``, ``1.2``, ``1.2.0``)."""
    _kind(kind)
    if version is not None and not all(p.isdigit() for p in version.split(".")):
        raise ValidationError(
            f"version must look like 1, 1.2 or 1.2.0, not {version!r}", field="version"
        )
    ref = SchemaRef(name, version)
    store = orchestrator_of(request).store
    found: Contract | None = await store.read(lambda tx: registry.find(tx, kind, ref))
    if found is None:
        which = f" version {version}" if version else ""
        raise DefinitionNotFoundError(f"no {kind} contract '{name}'{which}", field="name")
    return found.to_json()


@router.get("/{kind}/{name}/{version}")
async def get_version(kind: str, name: str, version: str, request: Request) -> dict[str, Any]:
    _kind(kind)
    exact = str(parse_semver(version))
    store = orchestrator_of(request).store
    found: dict[str, Any] | None = await store.read(lambda tx: tx.get_contract(kind, name, exact))
    if found is None:
        raise DefinitionNotFoundError(
            f"no {kind} contract '{name}' version {exact}", field="version"
        )
    return found
