"""``/api/notifications``: the delivery log, dead notifications, and replaying one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from podium.errors import NotFoundError, ValidationError
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx
from podium.store.notifications_base import NotificationState

__all__ = ["router"]

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

_STATES = (NotificationState.PENDING, NotificationState.SENT, NotificationState.DEAD)


class NotificationNotFoundError(NotFoundError):
    code = "E_NOTIFICATION_NOT_FOUND"


def _limit(limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise ValidationError("limit must be between 1 and 1000", field="limit")
    return limit


async def _list(request: Request, state: str | None, run_id: str | None, limit: int) -> Any:
    if state is not None and state not in _STATES:
        raise ValidationError(f"state must be one of {', '.join(_STATES)}", field="state")
    count = _limit(limit)
    rows = await orchestrator_of(request).store.read(
        lambda tx: tx.list_notifications(state, run_id, count)
    )
    return [row.to_view() for row in rows]


@router.get("/deliveries")
async def deliveries(
    request: Request,
    state: str | None = Query(default=None),
    runId: str | None = Query(default=None),
    limit: int = Query(default=100),
) -> list[dict[str, Any]]:
    """Notifications, newest first: pending, sent and dead (``state`` to pick one)."""
    found: list[dict[str, Any]] = await _list(request, state, runId, limit)
    return found


@router.get("/dead")
async def dead(
    request: Request, runId: str | None = Query(default=None), limit: int = Query(default=100)
) -> list[dict[str, Any]]:
    """Notifications whose every attempt failed, newest first."""
    found: list[dict[str, Any]] = await _list(request, NotificationState.DEAD, runId, limit)
    return found


@router.get("/{notification_id}")
async def one(notification_id: str, request: Request) -> dict[str, Any]:
    """One notification and every attempt to send it."""

    def unit(tx: StoreTx) -> dict[str, Any]:
        row = tx.get_notification(notification_id)
        if row is None:
            raise NotificationNotFoundError(
                f"no notification '{notification_id}'", field="notificationId"
            )
        return {**row.to_view(), "attempts": tx.notification_attempts(notification_id)}

    found: dict[str, Any] = await orchestrator_of(request).store.read(unit)
    return found


@router.post("/{notification_id}/replay")
async def replay(notification_id: str, request: Request) -> dict[str, Any]:
    """Send a notification again, with a fresh count of attempts (a dead one, say, once its
    channel is fixed)."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> dict[str, Any]:
        row = tx.get_notification(notification_id)
        if row is None:
            raise NotificationNotFoundError(
                f"no notification '{notification_id}'", field="notificationId"
            )
        tx.set_notification(
            row.id,
            state=NotificationState.PENDING,
            attempts=0,
            next_at=now,
            last_error=row.last_error,
            now=now,
        )
        return {"replayed": row.id, "was": row.state}

    answer: dict[str, Any] = await orchestrator.store.write(unit)
    orchestrator.on_notifications()
    return answer
