"""What an instance runs for the bus: the handler dispatcher and the configured bridges."""

from __future__ import annotations

import logging

from podium.events.dispatcher import Dispatcher
from podium.server.orchestrator import Orchestrator
from podium.settings import Settings

__all__ = ["EventRuntime"]

log = logging.getLogger("podium.events")


class EventRuntime:
    def __init__(self, orchestrator: Orchestrator, settings: Settings) -> None:
        self.dispatcher = Dispatcher(
            orchestrator,
            max_sleep_s=settings.sweep_interval_s,
            retry_base_ms=settings.event_retry_base_ms,
        )
        orchestrator.on_deliveries = self.dispatcher.poke

    async def start(self) -> None:
        self.dispatcher.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
