"""A worker's side of tracing: a span per task, child of the task's span on the server.

The server sends each task's W3C ``traceparent`` in the task (a top-level field that other
Conductor clients ignore). With tracing configured by the ``OTEL_*`` variables, the worker
runs the handler inside a span continued from it, and sends the span's own ``traceparent``
with the result; without, it only sets the ids its log lines carry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from podium.observability.context import (
    TraceParent,
    correlation_id_var,
    run_id_var,
    task_id_var,
)
from podium.observability.tracing import exporter_from_env, resource_for
from podium.worker.task import Task

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, SpanKind

__all__ = ["TaskScope", "WorkerTracing"]


class TaskScope:
    """What the runner learns while a task runs: the ``traceparent`` to send with its result."""

    def __init__(self, span: Span | None) -> None:
        self.span = span

    @property
    def traceparent(self) -> str | None:
        if self.span is None:
            return None
        context = self.span.get_span_context()
        return TraceParent(f"{context.trace_id:032x}", f"{context.span_id:016x}").header()

    def finished(self, status: str, reason: str | None) -> None:
        if self.span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        self.span.set_attribute("podium.task.status", status)
        if status not in ("COMPLETED", "IN_PROGRESS"):
            self.span.set_status(Status(StatusCode.ERROR, reason or status))


class WorkerTracing:
    """Spans for the tasks one worker process runs; ``provider`` None: ids in logs only."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("podium.worker") if provider is not None else None

    @classmethod
    def from_env(cls) -> WorkerTracing:
        exporter = exporter_from_env()
        if exporter is None:
            return cls(None)
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )

        provider = TracerProvider(resource=resource_for("podium-worker"))
        if isinstance(exporter, ConsoleSpanExporter):
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        # Handlers that trace what they call with the OpenTelemetry API use the same provider.
        trace.set_tracer_provider(provider)
        return cls(provider)

    @contextlib.contextmanager
    def task(self, task: Task, worker_id: str) -> Iterator[TaskScope]:
        """Run a task's handler in here: its log lines carry the task's ids, and its span
        (when tracing is on) is current, so spans the handler makes are its children."""
        tokens = (
            run_id_var.set(task.workflow_id or None),
            task_id_var.set(task.task_id or None),
            correlation_id_var.set(task.correlation_id),
        )
        try:
            if self._tracer is None:
                yield TaskScope(None)
                return
            with self._tracer.start_as_current_span(
                f"worker {task.task_type}",
                context=_parent(task.traceparent),
                kind=_consumer(),
                attributes={
                    "podium.workflow.id": task.workflow_id,
                    "podium.task.id": task.task_id,
                    "podium.task.type": task.task_type,
                    "podium.task.ref": task.reference_name,
                    "podium.task.retry_count": task.retry_count,
                    "podium.worker.id": worker_id,
                    **(
                        {"podium.correlation_id": task.correlation_id}
                        if task.correlation_id
                        else {}
                    ),
                },
            ) as span:
                yield TaskScope(span)
        finally:
            correlation_id_var.reset(tokens[2])
            task_id_var.reset(tokens[1])
            run_id_var.reset(tokens[0])

    def flush(self) -> None:
        """Send the spans still buffered: the runner does when it stops."""
        if self.provider is not None:
            self.provider.force_flush()


def _consumer() -> SpanKind:
    from opentelemetry.trace import SpanKind

    return SpanKind.CONSUMER


def _parent(traceparent: str | None) -> Context:
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace import SpanContext, TraceFlags

    parsed = TraceParent.parse(traceparent)
    if parsed is None:
        return Context()
    context = SpanContext(
        int(parsed.trace_id, 16),
        int(parsed.span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(1 if parsed.sampled else 0),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(context), Context())
