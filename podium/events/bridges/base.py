"""What every bridge does the same way: encode events for the wire, read messages back into
events, take published ones into the bus, and pump the outbox to the broker.

Into the bus: a message becomes an event on ``<broker>:<subject or queue>`` in one unit of
work, and is acknowledged to the broker only after that commits — so a crash in between
redelivers it, and its id (the broker's message id, or the envelope's) de-duplicates it.

Out of the bus: an EVENT task with a broker sink writes an outbox row with its decision. The
pump leases a batch of rows, sends each and waits for the broker to confirm it, then deletes
them; a row whose send failed is tried again with back-off. A batch at a time is the
back-pressure: nothing more is taken from the outbox while the broker has not confirmed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from podium.errors import PodiumError
from podium.events.bus import PublishResult, event_json, publish_tx
from podium.events.dispatcher import retry_delay_ms
from podium.server.background import nap
from podium.server.orchestrator import Orchestrator
from podium.store.base import StoreTx
from podium.store.events_base import BusEvent, OutboxEntry

__all__ = ["OutboxPump", "decode", "encode", "ingest"]

log = logging.getLogger("podium.events.bridges")
_LEASE_MS = 30_000
_RETRY_BASE_MS = 500


def encode(event: BusEvent) -> bytes:
    """The wire form: the event's envelope as JSON (what ``decode`` reads back)."""
    body = event_json(event)
    body.pop("seq", None)
    return orjson.dumps(body)


def decode(
    topic: str,
    data: bytes,
    *,
    message_id: str | None,
    correlation_id: str | None,
    fallback_id: str,
    now: int,
) -> BusEvent:
    """An incoming message as an event: a Podium envelope keeps its fields; anything else
    becomes the payload, with the broker's message id (or ``fallback_id``) as the event id."""
    try:
        body: Any = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError:
        body = {"text": data.decode("utf-8", errors="replace")}
    envelope = body if isinstance(body, dict) and "payload" in body and "id" in body else None
    if envelope is None:
        return BusEvent(
            event_id=message_id or fallback_id,
            topic=topic,
            type=topic,
            time=now,
            payload=body,
            correlation_id=correlation_id,
        )
    return BusEvent(
        event_id=str(envelope["id"]),
        topic=topic,
        type=str(envelope.get("type") or topic),
        time=int(envelope.get("time") or now),
        payload=envelope.get("payload"),
        source=envelope.get("source"),
        correlation_id=envelope.get("correlationId") or correlation_id,
        causation_id=envelope.get("causationId"),
    )


async def ingest(orchestrator: Orchestrator, event: BusEvent) -> PublishResult:
    now = orchestrator.clock()
    result: PublishResult = await orchestrator.write_events(
        lambda tx, ops: publish_tx(tx, ops, event, now)
    )
    return result


Send = Callable[[OutboxEntry, BusEvent], Awaitable[None]]


class OutboxPump:
    """Sends ``broker``'s outbox rows with ``send`` (which returns once the broker confirmed)."""

    def __init__(
        self, orchestrator: Orchestrator, broker: str, send: Send, *, batch: int = 100
    ) -> None:
        self.orchestrator = orchestrator
        self.broker = broker
        self.send = send
        self.batch = batch
        self._poke = asyncio.Event()

    def poke(self) -> None:
        self._poke.set()

    async def run(self, max_sleep_s: float = 1.0) -> None:
        """Pump until cancelled; a failed send is retried later, never lost."""
        while True:
            self._poke.clear()
            due: int | None = None
            try:
                if await self.pump_once():
                    continue
                due = await self.orchestrator.store.read(lambda tx: tx.next_outbox_due(self.broker))
            except PodiumError:
                log.exception("the %s outbox could not be read; trying again", self.broker)
            await nap(self._poke, due, self.orchestrator.clock(), max_sleep_s)

    async def pump_once(self) -> int:
        """Send one batch of due rows; how many were sent."""
        now = self.orchestrator.clock()

        def claim(tx: StoreTx) -> list[tuple[OutboxEntry, BusEvent | None]]:
            entries = tx.claim_outbox(self.broker, now, self.batch, _LEASE_MS)
            return [(entry, tx.get_event(entry.event_id)) for entry in entries]

        claimed = await self.orchestrator.store.write(claim)
        sent: list[int] = []
        failed: list[tuple[int, str, int]] = []
        for index, (entry, event) in enumerate(claimed):
            if event is None:
                sent.append(entry.id)  # the event is gone (removed by hand): nothing to send
                continue
            try:
                await self.send(entry, event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("could not send event %s to %s: %s", event.event_id, self.broker, error)
                at = self.orchestrator.clock() + retry_delay_ms(entry.attempts, _RETRY_BASE_MS)
                # The broker is in trouble: the rest of the batch waits with this row, in order.
                failed.extend((later.id, error, at) for later, _ in claimed[index:])
                break
            sent.append(entry.id)
        if sent or failed:

            def settle(tx: StoreTx) -> None:
                for entry_id in sent:
                    tx.delete_outbox(entry_id)
                for entry_id, error, at in failed:
                    tx.retry_outbox(entry_id, error, at)

            await self.orchestrator.store.write(settle)
        return len(sent)
