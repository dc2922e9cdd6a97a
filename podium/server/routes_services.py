"""``/api/services``: the service registry, and each service's circuit breaker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from podium.dsl.services import Service
from podium.errors import NotFoundError, ValidationError
from podium.resilience.breaker import BreakerState
from podium.server.requests import read_json, read_model
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/services", tags=["services"])

_SERVICES_BODY = {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}
_EVENTS_SHOWN = 20


class ServiceNotFoundError(NotFoundError):
    code = "E_SERVICE_NOT_FOUND"


def _breaker_view(tx: StoreTx, service: Service) -> dict[str, Any] | None:
    if service.circuitBreaker is None:
        return None
    state = BreakerState.from_dict(tx.get_breaker(service.name))
    return {
        "state": str(state.circuit),
        "consecutiveFailures": state.consecutive_failures,
        "recentFailures": sum(state.recent),
        "recentCalls": len(state.recent),
        "openedAt": state.opened_at,
        "halfOpensAt": state.reopens_at(service.circuitBreaker),
        "config": service.circuitBreaker.model_dump(mode="json", exclude_none=True),
        "transitions": tx.breaker_events(service.name, _EVENTS_SHOWN),
    }


def _service_view(tx: StoreTx, body: dict[str, Any]) -> dict[str, Any]:
    service = Service.model_validate(body)
    view = service.to_json()
    breaker = _breaker_view(tx, service)
    if breaker is not None:
        view["breaker"] = breaker
    return view


@router.post("", openapi_extra={"requestBody": _SERVICES_BODY})
@router.put("", openapi_extra={"requestBody": _SERVICES_BODY})
async def put_services(request: Request) -> dict[str, Any]:
    """Register or replace services (a list, or one)."""
    data = await read_json(request)
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
    if not items:
        raise ValidationError("the body must be a service or a list of them", field="body")
    services = [
        read_model(Service, item, f"[{i}]" if len(items) > 1 else "")
        for i, item in enumerate(items)
    ]
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> None:
        for service in services:
            tx.put_service(service.name, service.to_json(), now)

    await orchestrator.store.write(unit)
    return {"registered": [service.name for service in services]}


@router.get("")
async def list_services(request: Request) -> list[dict[str, Any]]:
    """Every service, with its breaker's state where it has one."""

    def unit(tx: StoreTx) -> list[dict[str, Any]]:
        return [_service_view(tx, body) for body in tx.list_services()]

    found: list[dict[str, Any]] = await orchestrator_of(request).store.read(unit)
    return found


@router.get("/{name}")
async def get_service(name: str, request: Request) -> dict[str, Any]:
    """One service: owner, contacts, and its breaker's state and latest transitions."""

    def unit(tx: StoreTx) -> dict[str, Any]:
        body = tx.get_service(name)
        if body is None:
            raise ServiceNotFoundError(f"no service '{name}' is registered", field="name")
        return _service_view(tx, body)

    found: dict[str, Any] = await orchestrator_of(request).store.read(unit)
    return found


@router.delete("/{name}")
async def delete_service(name: str, request: Request) -> dict[str, Any]:
    store = orchestrator_of(request).store
    if not await store.write(lambda tx: tx.delete_service(name)):
        raise ServiceNotFoundError(f"no service '{name}' is registered", field="name")
    return {"deleted": name}


@router.post("/{name}/breaker/reset")
async def reset_breaker(name: str, request: Request) -> dict[str, Any]:
    """Close a service's breaker by hand (say, once its owners report it fixed)."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> dict[str, Any]:
        body = tx.get_service(name)
        if body is None:
            raise ServiceNotFoundError(f"no service '{name}' is registered", field="name")
        before = BreakerState.from_dict(tx.get_breaker(name, for_update=True))
        tx.put_breaker(name, BreakerState().to_dict(), now)
        if before.circuit != "CLOSED":
            tx.add_breaker_event(name, now, before.circuit, "CLOSED", "reset by an operator")
        return _service_view(tx, body)

    view: dict[str, Any] = await orchestrator.store.write(unit)
    orchestrator.on_breaker_closed()  # its runs failed at once may now be retried
    return view
