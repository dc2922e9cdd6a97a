"""Workers for the tracing test; ``trace_ship`` traces its own call, as a handler might."""

from __future__ import annotations

from opentelemetry import trace

from podium.worker import worker_task


@worker_task("trace_charge")
def charge(amount: int) -> dict[str, int]:
    return {"charged": amount}


@worker_task("trace_ship")
def ship(charged: int) -> dict[str, str]:
    with trace.get_tracer("shipping-client").start_as_current_span("POST /shipments"):
        return {"tracking": f"T-{charged}"}
