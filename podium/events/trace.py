"""Collecting a trace: every run, event and delivery that carries one correlation id.

A run started without a correlation id shows none, as in Conductor, but carries a trace id:
the workflow id of the run that began its trace. A trace asked for by a workflow id nothing
carries as its correlation id is the trace of that run.
"""

from __future__ import annotations

from typing import Any

from podium.errors import NotFoundError
from podium.events.trace_graph import TraceInput, build_graph
from podium.server.orchestrator import Orchestrator
from podium.store.base import RunQuery, StoreTx
from podium.store.events_base import BusEvent, Delivery

__all__ = ["TraceNotFoundError", "build_trace"]

_MAX_ITEMS = 5000


class TraceNotFoundError(NotFoundError):
    """Nothing carries that correlation id."""

    code = "E_TRACE_NOT_FOUND"


async def build_trace(orchestrator: Orchestrator, correlation_id: str) -> dict[str, Any]:
    def unit(tx: StoreTx) -> tuple[str, list[str], list[BusEvent], list[Delivery]]:
        key = correlation_id
        _, runs = tx.search_runs(RunQuery(trace_id=key, size=_MAX_ITEMS), tasks=False)
        events = tx.list_events(correlation_id=key, limit=_MAX_ITEMS)
        if not runs and not events:
            found = tx.get_run(correlation_id)
            if found is not None and found[0].correlation_id:  # a run's id: its trace
                key = found[0].correlation_id
                _, runs = tx.search_runs(RunQuery(trace_id=key, size=_MAX_ITEMS), tasks=False)
                events = tx.list_events(correlation_id=key, limit=_MAX_ITEMS)
        deliveries = tx.deliveries_of([event.event_id for event in events])
        return key, [run.run_id for run in runs], events, deliveries

    correlation_id, run_ids, events, deliveries = await orchestrator.store.read(unit)
    if not run_ids and not events:
        raise TraceNotFoundError(
            f"no workflow or event has correlation id {correlation_id!r}", field="correlationId"
        )
    runs, services = [], {}
    for run_id in run_ids:
        try:
            view = await orchestrator.get_run(run_id)
        except NotFoundError:
            continue  # removed since the search
        runs.append(view.state)
        services.update({task_id: blame.service for task_id, blame in view.blames.items()})
    data = TraceInput(correlation_id, runs, services, events, deliveries)
    return build_graph(data)
