"""An OpenTelemetry id generator that hands out the ids a span was planned to have."""

from __future__ import annotations

from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

__all__ = ["PlannedIds"]


class PlannedIds(IdGenerator):
    """Gives the planned trace and span id to the next span started, random ones otherwise.

    Spans are started one at a time on the event loop, between ``plan`` and ``plan(None)``.
    """

    def __init__(self) -> None:
        self._random = RandomIdGenerator()
        self._trace_id: int | None = None
        self._span_id: int | None = None

    def plan(self, trace_id: str | None, span_id: str | None) -> None:
        self._trace_id = int(trace_id, 16) if trace_id else None
        self._span_id = int(span_id, 16) if span_id else None

    def generate_span_id(self) -> int:
        return self._span_id if self._span_id is not None else self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        return self._trace_id if self._trace_id is not None else self._random.generate_trace_id()
