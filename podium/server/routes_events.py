"""``/api/events``: publish on the bus, read events, dead letters and their replay."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Query, Request

from podium.contracts.event_payloads import payload_problem
from podium.errors import NotFoundError, ValidationError
from podium.events.bus import PublishResult, event_json, publish_tx
from podium.events.model import PublishRequest
from podium.events.ports import RunOps
from podium.events.views import delivery_json
from podium.server.requests import read_json, read_model
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx
from podium.store.events_base import BusEvent

__all__ = ["EventNotFoundError", "router"]

router = APIRouter(prefix="/api/events", tags=["events"])

TOPIC = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")
_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}


class EventNotFoundError(NotFoundError):
    code = "E_EVENT_NOT_FOUND"


def check_topic(topic: str, field: str = "topic") -> str:
    if not TOPIC.match(topic):
        raise ValidationError(
            f"topic {topic!r} must be 1-200 letters, digits and '_.:-'", field=field
        )
    return topic


@router.get("/dead-letters")
async def dead_letters(
    request: Request, subscriber: str | None = None, limit: int = Query(100, ge=1, le=1000)
) -> list[dict[str, Any]]:
    """Deliveries that failed every attempt, oldest first."""
    found = await orchestrator_of(request).store.read(lambda tx: tx.dead_letters(subscriber, limit))
    return [delivery_json(d) for d in found]


@router.post("/dead-letters/replay", openapi_extra={"requestBody": _BODY})
async def replay(request: Request) -> dict[str, Any]:
    """Deliver dead letters again, with fresh attempts: ``{"eventId"?, "subscriber"?}``."""
    body = await read_json(request, empty={})
    if not isinstance(body, dict):
        raise ValidationError("the body must be an object", field="body")
    unknown = set(body) - {"eventId", "subscriber"}
    if unknown:
        raise ValidationError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    for key in ("eventId", "subscriber"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ValidationError(f"{key} must be a string", field=key)
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx, ops: RunOps) -> int:
        count = tx.replay_dead(body.get("eventId"), body.get("subscriber"), now)
        if count:
            ops.deliveries_added()
        return count

    replayed = await orchestrator.write_events(unit)
    return {"replayed": replayed}


@router.get("/id/{event_id}")
async def get_event(event_id: str, request: Request) -> dict[str, Any]:
    """One event, with its delivery to each subscriber."""

    def unit(tx: StoreTx) -> dict[str, Any]:
        event = tx.get_event(event_id)
        if event is None:
            raise EventNotFoundError(f"no event has id {event_id}", field="id")
        body = event_json(event)
        body["deliveries"] = [delivery_json(d) for d in tx.deliveries_of([event_id])]
        return body

    found: dict[str, Any] = await orchestrator_of(request).store.read(unit)
    return found


@router.get("")
async def list_events(
    request: Request,
    topic: str | None = None,
    correlationId: str | None = None,
    after: int = Query(0, ge=0, description="Only events after this sequence number."),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Events in the order they were published."""
    found = await orchestrator_of(request).store.read(
        lambda tx: tx.list_events(
            topic=topic, correlation_id=correlationId, after_seq=after, limit=limit
        )
    )
    return [event_json(event) for event in found]


@router.post("/{topic}", openapi_extra={"requestBody": _BODY})
async def publish(topic: str, request: Request) -> dict[str, Any]:
    """Publish an event on ``topic``. A repeated ``id`` is a duplicate and changes nothing."""
    check_topic(topic)
    envelope = read_model(PublishRequest, await read_json(request, empty={}))
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    event = BusEvent(
        event_id=envelope.id or str(uuid.uuid4()),
        topic=topic,
        type=envelope.type or topic,
        time=envelope.time if envelope.time is not None else now,
        payload=envelope.payload,
        source=envelope.source,
        correlation_id=envelope.correlationId,
        causation_id=envelope.causationId,
    )

    def unit(tx: StoreTx, ops: RunOps) -> PublishResult:
        problem = payload_problem(tx, event.type, event.payload, event.source)
        if problem is not None:
            message, path = problem
            raise ValidationError(message, field=f"payload{path.removeprefix('$')}")
        return publish_tx(tx, ops, event, now)

    result = await orchestrator.write_events(unit)
    return result.to_json()
