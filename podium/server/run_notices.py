"""A run that ended badly tells the channels of the service behind it and of its workflow.

Called by the decision that ends the run, in its transaction: the rows are in the outbox once
the run's end is committed, and not before (see ``notifications.outbox``).
"""

from __future__ import annotations

from podium.dsl.notifications import Channel, NotifyEvent
from podium.engine.blueprint import Blueprint
from podium.engine.state import RunState, RunStatus
from podium.notifications.messages import run_message
from podium.notifications.outbox import write_notifications
from podium.server.attribution import Blame
from podium.store.base import StoreTx

__all__ = ["RUN_EVENTS", "notify_run_ended"]

RUN_EVENTS = {
    RunStatus.FAILED: NotifyEvent.RUN_FAILED,
    RunStatus.TIMED_OUT: NotifyEvent.RUN_TIMED_OUT,
    RunStatus.COMPENSATED: NotifyEvent.RUN_COMPENSATED,
    RunStatus.COMPENSATION_FAILED: NotifyEvent.RUN_COMPENSATION_FAILED,
}


def notify_run_ended(
    tx: StoreTx, blueprint: Blueprint, run: RunState, blame: Blame | None, now: int
) -> int:
    """Queue the run's notifications; how many rows were written."""
    event = RUN_EVENTS.get(run.status)
    if event is None:
        return 0
    channels: list[Channel] = []
    if blame is not None and blame.record is not None and blame.record.notifications:
        channels.extend(blame.record.notifications)
    channels.extend(blueprint.definition.notifications or ())
    if not channels:
        return 0
    task = run.task(blame.task_id) if blame is not None and blame.task_id else None
    service = blame.service if blame is not None else None
    body = run_message(event, run, task, service, blame.record if blame else None, now)
    # The run's sequence number tells this ending from a later one (the run retried, failing
    # again), while the same decision taken twice writes the same key.
    return write_notifications(
        tx,
        channels,
        event,
        body,
        subject=f"run:{run.run_id}#{run.next_seq}",
        run_id=run.run_id,
        service=service,
        now=now,
    )
