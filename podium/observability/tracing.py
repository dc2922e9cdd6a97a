"""OpenTelemetry spans, configured by the standard ``OTEL_*`` environment variables.

Tracing is on when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp`` or ``console``) or an
OTLP endpoint is set, and ``OTEL_SDK_DISABLED`` is not ``true``. Otherwise nothing here is
imported and callers hold ``None``: tracing that is off costs one ``is None`` test.

Spans are written when what they describe has ended, with the times the store recorded: a run
can outlive the process that started it, so no span object is kept open across units of work.
Their ids are planned (see ``context``), so spans written by different instances, at different
times, still form one tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["SpanEmitter", "SpanLink", "exporter_from_env", "resource_for", "tracing_enabled"]

SpanLink = tuple[str, str]
"""(trace id, span id) of a span in another trace."""


def _exporter_name(env: Mapping[str, str]) -> str:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "none"
    names = env.get("OTEL_TRACES_EXPORTER")
    if names is None:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return "otlp" if endpoint else "none"
    return names.split(",")[0].strip().lower() or "none"


def tracing_enabled(env: Mapping[str, str] | None = None) -> bool:
    return _exporter_name(os.environ if env is None else env) != "none"


def exporter_from_env(env: Mapping[str, str] | None = None) -> SpanExporter | None:
    """The exporter the ``OTEL_*`` variables ask for; None when tracing is off."""
    env = os.environ if env is None else env
    name = _exporter_name(env)
    if name == "none":
        return None
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "otlp":
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
            "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
        )
        if protocol == "grpc":
            raise ValueError(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported; use http/protobuf "
                "(the OTLP/HTTP exporter is installed with Podium)"
            )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER={name!r} is not supported: use otlp, console or none")


def resource_for(default_service: str) -> Resource:
    """The ``OTEL_*`` resource, named ``default_service`` unless the variables name it."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    resource = Resource.create()
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    return resource if named else resource.merge(Resource({SERVICE_NAME: default_service}))


class SpanEmitter:
    """Writes finished spans with planned ids to one exporter."""

    def __init__(
        self, exporter: SpanExporter, *, service_name: str, batch: bool | None = None
    ) -> None:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )

        from podium.observability.planned_ids import PlannedIds

        self._ids = PlannedIds()
        self.provider = TracerProvider(resource=resource_for(service_name), id_generator=self._ids)
        if batch is None:
            # The console is for looking at: spans appear as they end.
            batch = not isinstance(exporter, ConsoleSpanExporter)
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("podium")

    @classmethod
    def from_env(cls, service_name: str) -> SpanEmitter | None:
        exporter = exporter_from_env()
        return None if exporter is None else cls(exporter, service_name=service_name)

    def emit(
        self,
        name: str,
        *,
        trace_id: str,
        span_id: str | None,
        parent_span_id: str | None,
        start_ms: int,
        end_ms: int,
        attributes: Mapping[str, Any],
        links: Sequence[SpanLink] = (),
        error: str | None = None,
        kind: str = "INTERNAL",
    ) -> None:
        """One finished span; ``span_id`` None lets the SDK draw one."""
        from opentelemetry import trace
        from opentelemetry.context import Context
        from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

        def context_of(trace_hex: str, span_hex: str) -> SpanContext:
            return SpanContext(
                int(trace_hex, 16), int(span_hex, 16), is_remote=True, trace_flags=TraceFlags(1)
            )

        parent = Context()
        if parent_span_id is not None:
            parent = trace.set_span_in_context(
                trace.NonRecordingSpan(context_of(trace_id, parent_span_id)), parent
            )
        self._ids.plan(trace_id, span_id)
        try:
            span = self.tracer.start_span(
                name,
                context=parent,
                kind=SpanKind[kind],
                attributes={k: v for k, v in attributes.items() if v is not None},
                links=[Link(context_of(t, s)) for t, s in links],
                start_time=start_ms * 1_000_000,
            )
        finally:
            self._ids.plan(None, None)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=max(end_ms, start_ms) * 1_000_000)

    def shutdown(self) -> None:
        self.provider.shutdown()
