"""What an instance runs for the bus: the handler dispatcher and the configured bridges."""

from __future__ import annotations

from podium.events.bridges.amqp import AmqpBridge
from podium.events.bridges.nats import NatsBridge
from podium.events.dispatcher import Dispatcher
from podium.server.orchestrator import Orchestrator
from podium.settings import Settings

__all__ = ["EventRuntime"]


class EventRuntime:
    def __init__(self, orchestrator: Orchestrator, settings: Settings) -> None:
        self.dispatcher = Dispatcher(
            orchestrator,
            max_sleep_s=settings.sweep_interval_s,
            retry_base_ms=settings.event_retry_base_ms,
        )
        self.bridges: dict[str, NatsBridge | AmqpBridge] = {}
        if settings.nats_url:
            self.bridges["nats"] = NatsBridge(
                orchestrator,
                settings.nats_url,
                stream=settings.nats_stream,
                subjects=settings.nats_subjects,
            )
        if settings.amqp_url:
            self.bridges["amqp"] = AmqpBridge(
                orchestrator, settings.amqp_url, queues=settings.amqp_queues
            )
        orchestrator.on_deliveries = self.dispatcher.poke
        orchestrator.on_outbox = self._poke_bridge

    def _poke_bridge(self, broker: str) -> None:
        bridge = self.bridges.get(broker)
        if bridge is not None:
            bridge.poke()

    async def start(self) -> None:
        self.dispatcher.start()
        for bridge in self.bridges.values():
            bridge.start()

    async def stop(self) -> None:
        for bridge in self.bridges.values():
            await bridge.stop()
        await self.dispatcher.stop()
