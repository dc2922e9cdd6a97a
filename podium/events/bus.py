"""Publishing inside a unit of work: keep the event once, fan it out to its subscribers, and
complete the WAIT tasks waiting for it — all in the publisher's transaction.

A repeated event id changes nothing (at-least-once publishers are de-duplicated here). Each
active handler and pull subscription whose topic pattern matches gets a delivery row; the
dispatcher and the pull API take them from there. Patterns are exact topics or globs
(``order.*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from podium.dsl.sinks import BUS
from podium.engine.events import AwaitEvent, PublishEvent
from podium.errors import NotFoundError
from podium.events.model import DEFAULT_MAX_ATTEMPTS, handler_topic
from podium.events.ports import RunOps
from podium.store.base import StoreTx
from podium.store.events_base import BusEvent, Delivery, DeliveryStatus

__all__ = ["PublishResult", "carry_out", "event_json", "publish_tx"]

WAIT_KIND = "wait"
"""Deliveries of this kind record which WAIT task an event completed (for the trace)."""


@dataclass(frozen=True, slots=True)
class PublishResult:
    event_id: str
    duplicate: bool
    deliveries: int
    completed_tasks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "duplicate": self.duplicate,
            "deliveries": self.deliveries,
            "completedTasks": list(self.completed_tasks),
        }


def _matches(pattern: str, topic: str) -> bool:
    return pattern == topic or (("*" in pattern or "?" in pattern) and fnmatchcase(topic, pattern))


def publish_tx(tx: StoreTx, ops: RunOps, event: BusEvent, now: int) -> PublishResult:
    if tx.insert_event(event) is None:
        return PublishResult(event.event_id, True, 0)
    added = 0
    for body in tx.list_handlers():
        if body.get("active", True) and _matches(handler_topic(str(body["event"])), event.topic):
            attempts = int(body.get("maxAttempts") or DEFAULT_MAX_ATTEMPTS)
            tx.add_delivery(event.event_id, "handler", str(body["name"]), attempts, now)
            added += 1
    for sub in tx.list_subscriptions():
        if _matches(sub["topic"], event.topic):
            tx.add_delivery(event.event_id, "pull", sub["name"], sub["maxAttempts"], now)
            added += 1
    if added:
        ops.deliveries_added()
    completed = _complete_waits(tx, ops, event, now)
    return PublishResult(event.event_id, False, added, completed)


def _complete_waits(tx: StoreTx, ops: RunOps, event: BusEvent, now: int) -> tuple[str, ...]:
    names = list(dict.fromkeys([event.type, event.topic]))
    completed: list[str] = []
    for task_id, run_id in tx.matching_event_waits(names, event.correlation_id):
        tx.delete_event_wait(task_id)
        output = event.payload if isinstance(event.payload, dict) else {"payload": event.payload}
        try:
            done = ops.finish_task(run_id, task_id, None, "COMPLETED", output, None, now)
        except NotFoundError:
            done = None  # the run was removed meanwhile: its wait is simply gone
        if done is None:
            continue
        completed.append(task_id)
        # Recorded like a delivery, so the trace shows which event released which WAIT.
        tx.add_delivery(event.event_id, WAIT_KIND, task_id, 1, now)
        tx.update_delivery(
            Delivery(
                event.event_id,
                WAIT_KIND,
                task_id,
                DeliveryStatus.DONE,
                1,
                1,
                now,
                None,
                None,
                {"actions": [{"action": "complete_task", "taskId": task_id, "workflowId": run_id}]},
                now,
            )
        )
    return tuple(completed)


def carry_out(
    tx: StoreTx, ops: RunOps, run_id: str, command: PublishEvent | AwaitEvent, now: int
) -> None:
    """The orchestrator's hand-off for the engine's event commands."""
    if isinstance(command, AwaitEvent):
        tx.put_event_wait(command.task_id, run_id, command.event, command.correlation_id, now)
        return
    event = BusEvent(
        event_id=command.event_id,
        topic=command.topic,
        type=command.type,
        time=now,
        payload=command.payload,
        source=command.source,
        correlation_id=command.correlation_id,
        run_id=command.run_id,
        task_id=command.task_id,
    )
    result = publish_tx(tx, ops, event, now)
    if command.broker != BUS and not result.duplicate:
        tx.add_outbox(command.event_id, command.broker, command.destination, now)
        ops.outbox_added(command.broker)


def event_json(event: BusEvent) -> dict[str, Any]:
    """An event as the API shows it."""
    body: dict[str, Any] = {
        "id": event.event_id,
        "seq": event.seq,
        "topic": event.topic,
        "type": event.type,
        "source": event.source,
        "correlationId": event.correlation_id,
        "causationId": event.causation_id,
        "time": event.time,
        "payload": event.payload,
    }
    if event.run_id:
        body["workflowId"] = event.run_id
        body["taskId"] = event.task_id
    return body
