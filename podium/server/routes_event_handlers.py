"""``/api/event``: Conductor's event handler API — add, update, list, remove.

A handler is disabled by updating it with ``"active": false`` (as in Conductor); deliveries
to a disabled handler are skipped, not kept for later.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from podium.dsl import evaluators
from podium.errors import ConflictError, NotFoundError, ValidationError
from podium.events.model import EventHandler
from podium.server.requests import parse_bool, read_json, read_model
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/event", tags=["event handlers"])

_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}


class HandlerNotFoundError(NotFoundError):
    code = "E_HANDLER_NOT_FOUND"


def read_handler(data: Any, prefix: str = "") -> EventHandler:
    handler = read_model(EventHandler, data, prefix)
    if handler.condition:
        evaluator = (handler.evaluatorType or "javascript").lower()
        if evaluator not in evaluators.JAVASCRIPT:
            raise ValidationError(
                f"evaluatorType '{handler.evaluatorType}' is not javascript",
                field=f"{prefix}evaluatorType" if prefix else "evaluatorType",
            )
        problem = evaluators.javascript_problem(handler.condition)
        if problem:
            raise ValidationError(
                f"condition: {problem}", field=f"{prefix}condition" if prefix else "condition"
            )
    return handler


async def _save(request: Request, *, create: bool) -> dict[str, Any]:
    data = await read_json(request)
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
    if not items:
        raise ValidationError("the body must be an event handler or a list of them", field="body")
    handlers = [
        read_handler(item, f"[{i}]." if len(items) > 1 else "") for i, item in enumerate(items)
    ]
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> None:
        for handler in handlers:
            exists = tx.get_handler(handler.name) is not None
            if create and exists:
                raise ConflictError(
                    f"event handler '{handler.name}' already exists; update it with PUT",
                    service="server",
                    code="E_HANDLER_EXISTS",
                )
            if not create and not exists:
                raise HandlerNotFoundError(
                    f"no event handler '{handler.name}' to update", field="name"
                )
            tx.put_handler(handler.name, handler.topic, handler.active, handler.to_json(), now)

    await orchestrator.store.write(unit)
    return {"registered": [handler.name for handler in handlers]}


@router.post("", openapi_extra={"requestBody": _BODY})
async def add_handler(request: Request) -> dict[str, Any]:
    """Add an event handler (or a list of them); a name already in use answers 409."""
    return await _save(request, create=True)


@router.put("", openapi_extra={"requestBody": _BODY})
async def update_handler(request: Request) -> dict[str, Any]:
    """Replace an existing event handler, e.g. to set ``active`` to false."""
    return await _save(request, create=False)


@router.get("")
async def list_handlers(request: Request) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await orchestrator_of(request).store.read(
        lambda tx: tx.list_handlers()
    )
    return found


@router.get("/{event}")
async def handlers_for_event(
    event: str, request: Request, activeOnly: str | None = None
) -> list[dict[str, Any]]:
    """The handlers listening to ``event`` (Conductor's ``conductor:`` prefix optional)."""
    topic = event.removeprefix("conductor:")
    active_only = parse_bool(activeOnly, default=True)
    handlers = await list_handlers(request)
    return [
        h
        for h in handlers
        if str(h["event"]).removeprefix("conductor:") == topic
        and (h.get("active", True) or not active_only)
    ]


@router.delete("/{name}")
async def remove_handler(name: str, request: Request) -> dict[str, Any]:
    store = orchestrator_of(request).store
    if not await store.write(lambda tx: tx.delete_handler(name)):
        raise HandlerNotFoundError(f"no event handler '{name}'", field="name")
    return {"deleted": name}
