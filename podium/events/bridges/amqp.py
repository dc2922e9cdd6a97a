"""The RabbitMQ (AMQP 0-9-1) bridge (``aio-pika``).

Consuming: each configured queue (declared durable) is consumed with a prefetch limit — the
back-pressure: RabbitMQ sends no more than that many unacknowledged messages — and each
message becomes an event on ``amqp:<queue>``, acked after it commits (nacked and requeued
if it could not be taken). Publishing: outbox rows go to their queue through the default
exchange as persistent messages on a channel with publisher confirms, so a send returns only
once RabbitMQ has the message. ``connect_robust`` reconnects and restores the consumers; a
connection that cannot be made at all is retried after a back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from podium.events.bridges.base import OutboxPump, decode, encode, ingest
from podium.resilience.backoff import Backoff
from podium.server.background import BackgroundTask
from podium.server.orchestrator import Orchestrator
from podium.store.events_base import BusEvent, OutboxEntry

__all__ = ["AmqpBridge"]

log = logging.getLogger("podium.events.amqp")


class AmqpBridge:
    broker = "amqp"

    def __init__(
        self,
        orchestrator: Orchestrator,
        url: str,
        *,
        queues: tuple[str, ...] = (),
        prefetch: int = 50,
    ) -> None:
        self.orchestrator = orchestrator
        self.url = url
        self.queues = queues
        self.prefetch = prefetch
        self.pump = OutboxPump(orchestrator, self.broker, self._send, batch=prefetch)
        self.connected = asyncio.Event()
        self._channel: AbstractChannel | None = None
        self._declared: set[str] = set()
        self._background = BackgroundTask("podium-amqp", self._run)

    def poke(self) -> None:
        self.pump.poke()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        backoff = Backoff(0.2, 10.0)
        while True:
            connection: AbstractRobustConnection | None = None
            try:
                connection = await aio_pika.connect_robust(self.url, timeout=5)
                consuming = await connection.channel()
                await consuming.set_qos(prefetch_count=self.prefetch)
                for name in self.queues:
                    queue = await consuming.declare_queue(name, durable=True)
                    await queue.consume(self._take)
                self._channel = await connection.channel(publisher_confirms=True)
                self._declared = set()
                self.connected.set()
                backoff.reset()
                await self.pump.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = backoff.next()
                log.warning("AMQP bridge to %s: %s; reconnecting in %.1fs", self.url, exc, delay)
            else:
                delay = backoff.next()
            finally:
                self._channel = None
                self.connected.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
            await asyncio.sleep(delay)

    async def _take(self, message: AbstractIncomingMessage) -> None:
        queue = message.routing_key or ""
        event = decode(
            f"amqp:{queue}",
            message.body,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            # Without a message id a redelivered message cannot be recognised: publishers
            # that want de-duplication set one (Podium always does).
            fallback_id=f"amqp:{queue}:{uuid.uuid4()}",
            now=self.orchestrator.clock(),
        )
        try:
            await ingest(self.orchestrator, event)
        except Exception as exc:
            log.warning("could not take AMQP message %s into the bus: %s", event.event_id, exc)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def _send(self, entry: OutboxEntry, event: BusEvent) -> None:
        channel = self._channel
        if channel is None or channel.is_closed:
            raise ConnectionError("not connected to RabbitMQ")
        if entry.destination not in self._declared:
            await channel.declare_queue(entry.destination, durable=True)
            self._declared.add(entry.destination)
        message = aio_pika.Message(
            encode(event),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=event.event_id,
            correlation_id=event.correlation_id,
            type=event.type,
            app_id=event.source,
        )
        await channel.default_exchange.publish(message, routing_key=entry.destination, timeout=5)
