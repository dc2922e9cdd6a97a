"""``/api/subscriptions``: pull subscriptions, for services that take events from the bus.

A service polls its subscription, gets events leased to it, and acks each once handled (or
nacks it with the error). A lease that runs out counts as a failed attempt; after the
subscription's ``maxAttempts`` the event is dead-lettered for that subscription alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Query, Request

from podium.errors import NotFoundError, ValidationError
from podium.events.bus import event_json
from podium.events.dispatcher import retry_delay_ms
from podium.events.model import SubscriptionRequest
from podium.server.requests import read_json, read_model
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx
from podium.store.events_base import DeliveryStatus

__all__ = ["router"]

router = APIRouter(prefix="/api/subscriptions", tags=["events"])

_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
_RETRY_BASE_MS = 1000


class SubscriptionNotFoundError(NotFoundError):
    code = "E_SUBSCRIPTION_NOT_FOUND"


def _require(tx: StoreTx, name: str) -> dict[str, Any]:
    for sub in tx.list_subscriptions():
        if sub["name"] == name:
            return sub
    raise SubscriptionNotFoundError(f"no subscription '{name}'", field="name")


@router.post("", openapi_extra={"requestBody": _BODY})
async def subscribe(request: Request) -> dict[str, Any]:
    """Create (or change) a pull subscription; it receives events published from now on."""
    sub = read_model(SubscriptionRequest, await read_json(request))
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    await orchestrator.store.write(
        lambda tx: tx.put_subscription(sub.name, sub.topic, sub.maxAttempts, now)
    )
    return sub.model_dump()


@router.get("")
async def list_subscriptions(request: Request) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await orchestrator_of(request).store.read(
        lambda tx: tx.list_subscriptions()
    )
    return found


@router.delete("/{name}")
async def unsubscribe(name: str, request: Request) -> dict[str, Any]:
    store = orchestrator_of(request).store
    if not await store.write(lambda tx: tx.delete_subscription(name)):
        raise SubscriptionNotFoundError(f"no subscription '{name}'", field="name")
    return {"deleted": name}


@router.get("/{name}/poll")
async def poll(
    name: str,
    request: Request,
    consumer: str = Query("consumer", min_length=1, max_length=200),
    count: int = Query(10, ge=1, le=500),
    leaseSeconds: int = Query(30, ge=1, le=86_400),
) -> list[dict[str, Any]]:
    """Lease up to ``count`` events to ``consumer``; each carries its ``attempt`` number."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> list[dict[str, Any]]:
        _require(tx, name)
        handed: list[dict[str, Any]] = []
        for d in tx.claim_deliveries(name, consumer, count, now, leaseSeconds * 1000):
            if d.attempts >= d.max_attempts:  # its last lease ran out: no attempts left
                error = d.last_error or f"not acknowledged by {d.lease_owner} in time"
                tx.update_delivery(
                    replace(d, status=DeliveryStatus.DEAD, last_error=error, updated_at=now)
                )
                continue
            event = tx.get_event(d.event_id)
            leased = replace(
                d,
                attempts=d.attempts + 1,
                lease_owner=consumer,
                next_attempt_at=now + leaseSeconds * 1000,
                updated_at=now,
            )
            tx.update_delivery(leased)
            if event is not None:
                handed.append({"event": event_json(event), "attempt": leased.attempts})
        return handed

    found: list[dict[str, Any]] = await orchestrator.store.write(unit)
    return found


async def _settle(name: str, request: Request, *, ack: bool) -> dict[str, Any]:
    body = await read_json(request, empty={})
    if not isinstance(body, dict) or not isinstance(body.get("eventId"), str):
        raise ValidationError("eventId: the id of a leased event is required", field="eventId")
    outcome = body.get("outcome")
    if outcome is not None and not isinstance(outcome, dict):
        raise ValidationError("outcome must be an object", field="outcome")
    error = str(body.get("error") or "rejected by the consumer")
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> dict[str, Any]:
        _require(tx, name)
        d = tx.lock_delivery(body["eventId"], "pull", name)
        if d is None:
            raise NotFoundError(
                f"subscription '{name}' holds no pending event {body['eventId']}",
                field="eventId",
            )
        if ack:
            settled = replace(d, status=DeliveryStatus.DONE, outcome=outcome, updated_at=now)
        else:
            dead = d.attempts >= d.max_attempts
            settled = replace(
                d,
                status=DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING,
                next_attempt_at=now + retry_delay_ms(d.attempts, _RETRY_BASE_MS),
                lease_owner=None,
                last_error=error[:2000],
                updated_at=now,
            )
        tx.update_delivery(settled)
        return {"eventId": d.event_id, "status": settled.status}

    result: dict[str, Any] = await orchestrator.store.write(unit)
    return result


@router.post("/{name}/ack", openapi_extra={"requestBody": _BODY})
async def ack(name: str, request: Request) -> dict[str, Any]:
    """The consumer handled the event: ``{"eventId", "outcome"?}``."""
    return await _settle(name, request, ack=True)


@router.post("/{name}/nack", openapi_extra={"requestBody": _BODY})
async def nack(name: str, request: Request) -> dict[str, Any]:
    """The consumer failed on the event: ``{"eventId", "error"?}``; retried, then dead."""
    return await _settle(name, request, ack=False)
