"""The NATS JetStream bridge (``nats-py``).

Consuming: a durable pull consumer on the bridge's stream takes messages in batches (the
batch is the back-pressure: the next fetch waits until this one is in the bus); each becomes
an event on ``nats:<subject>`` and is acked after it commits. Publishing: outbox rows go out
with ``js.publish``, whose ``Nats-Msg-Id`` header lets JetStream drop a repeat, and which
returns only once the stream has stored the message.

The client reconnects by itself; if the connection is lost for good (or was never made), the
bridge starts over after a back-off, so a broker restart costs a delay, not events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import nats
from nats.aio.client import Client as NATSClient
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from podium.events.bridges.base import OutboxPump, decode, encode, ingest
from podium.resilience.backoff import Backoff
from podium.server.background import BackgroundTask
from podium.server.orchestrator import Orchestrator
from podium.store.events_base import BusEvent, OutboxEntry

__all__ = ["NatsBridge"]

log = logging.getLogger("podium.events.nats")


class NatsBridge:
    broker = "nats"

    def __init__(
        self,
        orchestrator: Orchestrator,
        url: str,
        *,
        stream: str = "PODIUM",
        subjects: tuple[str, ...] = (),
        durable: str = "podium",
        batch: int = 50,
    ) -> None:
        self.orchestrator = orchestrator
        self.url = url
        self.stream = stream
        self.subjects = subjects
        self.durable = durable
        self.batch = batch
        self.pump = OutboxPump(orchestrator, self.broker, self._send, batch=batch)
        self.connected = asyncio.Event()
        self._js: JetStreamContext | None = None
        self._background = BackgroundTask("podium-nats", self._run)

    def poke(self) -> None:
        self.pump.poke()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        backoff = Backoff(0.2, 10.0)
        while True:
            nc: NATSClient | None = None
            try:
                nc = await nats.connect(
                    self.url,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.2,
                    connect_timeout=2,
                    allow_reconnect=True,
                )
                js = nc.jetstream()
                await self._ensure_stream(js)
                self._js = js
                self.connected.set()
                backoff.reset()
                loops = [self.pump.run()]
                if self.subjects:
                    loops.append(self._consume(js))
                await asyncio.gather(*loops)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = backoff.next()
                log.warning("NATS bridge to %s: %s; reconnecting in %.1fs", self.url, exc, delay)
            else:
                delay = backoff.next()
            finally:
                self._js = None
                self.connected.clear()
                if nc is not None:
                    with contextlib.suppress(Exception):
                        await nc.close()
            await asyncio.sleep(delay)

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        if not self.subjects:
            return
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(StreamConfig(name=self.stream, subjects=list(self.subjects)))
            return
        held = set(info.config.subjects or [])
        if not set(self.subjects) <= held:
            config = info.config
            config.subjects = sorted(held | set(self.subjects))
            with contextlib.suppress(BadRequestError):
                await js.update_stream(config)

    async def _consume(self, js: JetStreamContext) -> None:
        sub = await js.pull_subscribe(
            "",
            durable=self.durable,
            stream=self.stream,
            config=ConsumerConfig(durable_name=self.durable, ack_wait=30),
        )
        while True:
            try:
                messages = await sub.fetch(self.batch, timeout=1)
            except NatsTimeoutError:
                continue
            for message in messages:
                await self._take(message)

    async def _take(self, message: Any) -> None:
        headers = message.headers or {}
        meta = message.metadata
        event = decode(
            f"nats:{message.subject}",
            message.data,
            message_id=headers.get("Nats-Msg-Id"),
            correlation_id=headers.get("Correlation-Id"),
            fallback_id=f"nats:{meta.stream}:{meta.sequence.stream}",
            now=self.orchestrator.clock(),
        )
        try:
            await ingest(self.orchestrator, event)
        except Exception as exc:
            log.warning("could not take NATS message %s into the bus: %s", event.event_id, exc)
            await message.nak(delay=1)
            return
        await message.ack()

    async def _send(self, entry: OutboxEntry, event: BusEvent) -> None:
        js = self._js
        if js is None:
            raise ConnectionError("not connected to NATS")
        headers = {"Nats-Msg-Id": event.event_id}
        if event.correlation_id:
            headers["Correlation-Id"] = event.correlation_id
        await js.publish(entry.destination, encode(event), timeout=5, headers=headers)
