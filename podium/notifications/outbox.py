"""Writing notifications into the outbox, inside the transaction of what caused them.

A row per channel that wants the event, keyed ``<subject>:<event>:<channel>`` so that the same
decision taken again (a unit PostgreSQL runs twice, an event replayed) writes nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from podium.dsl.notifications import Channel, NotifyEvent
from podium.dsl.services import Service
from podium.notifications.messages import breaker_message
from podium.store.base import StoreTx
from podium.store.notifications_base import NotificationRow, NotificationState

__all__ = ["BREAKER_EVENTS", "notify_breaker", "notify_ticks_missed", "write_notifications"]

BREAKER_EVENTS = {"OPEN": NotifyEvent.BREAKER_OPENED, "CLOSED": NotifyEvent.BREAKER_CLOSED}


def write_notifications(
    tx: StoreTx,
    channels: Iterable[Channel],
    event: NotifyEvent,
    body: dict[str, Any],
    *,
    subject: str,
    run_id: str | None,
    service: str | None,
    now: int,
) -> int:
    """Queue ``body`` for every channel that wants ``event``; how many rows were new."""
    added = 0
    seen: set[str] = set()
    for channel in channels:
        if not channel.wants(event) or channel.channel_id in seen:
            continue
        seen.add(channel.channel_id)  # a channel declared twice (service and workflow) once
        notification_id = str(uuid.uuid4())
        row = NotificationRow(
            id=notification_id,
            dedupe_key=f"{subject}:{event}:{channel.channel_id}",
            channel=channel.channel_id,
            kind=str(channel.kind),
            event=str(event),
            run_id=run_id,
            service=service,
            target=channel.model_dump(mode="json", exclude_none=True),
            body={"id": notification_id, **body},
            state=NotificationState.PENDING,
            attempts=0,
            next_at=now,
            last_error=None,
            created_at=now,
            updated_at=now,
        )
        added += tx.add_notification(row)
    return added


def notify_breaker(
    tx: StoreTx, service: Service, from_state: str, to_state: str, reason: str, now: int
) -> int:
    """Tell the service's channels its breaker opened or closed (half-open says nothing)."""
    event = BREAKER_EVENTS.get(to_state)
    if event is None or not service.notifications:
        return 0
    body = breaker_message(event, service, reason, now)
    subject = f"breaker:{service.name}:{from_state}:{now}"
    return write_notifications(
        tx,
        service.notifications,
        event,
        body,
        subject=subject,
        run_id=None,
        service=service.name,
        now=now,
    )


def notify_ticks_missed(
    tx: StoreTx, schedule: str, workflow: str, count: int, since: int | None, now: int
) -> int:
    """Tell the channels of a schedule's workflow (its latest version) that ``count`` ticks
    fell while nothing ticked and the catch-up policy dropped them."""
    body = tx.get_workflow_def(workflow, None)
    declared = (body or {}).get("notifications") or []
    if not declared:
        return 0
    channels = [Channel.model_validate(channel) for channel in declared]
    message = {
        "event": str(NotifyEvent.SCHEDULE_TICK_MISSED),
        "at": now,
        "summary": f"schedule {schedule}: {count} tick(s) of {workflow} missed, not caught up",
        "schedule": {"name": schedule, "missed": count, "since": since},
        "workflow": {"name": workflow},
        "service": {},
    }
    return write_notifications(
        tx,
        channels,
        NotifyEvent.SCHEDULE_TICK_MISSED,
        message,
        subject=f"schedule:{schedule}:{since}",
        run_id=None,
        service=None,
        now=now,
    )
