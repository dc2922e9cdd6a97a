"""``/metrics``: Prometheus metrics of this instance, and of the queues and breakers it shares."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from podium.resilience.breaker import BreakerState
from podium.server.routes_scaling import backlog_json
from podium.server.routes_slos import slo_reports
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(tags=["observability"])


def _shared(
    tx: StoreTx, now: int
) -> tuple[dict[str, int], dict[str, tuple[int, int]], dict[str, str]]:
    sizes = tx.queue_sizes(None)
    backlog = tx.queue_backlog(now)
    breakers = {
        name: str(BreakerState.from_dict(body).circuit) for name, body in tx.list_breakers().items()
    }
    return sizes, backlog, breakers


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Runs, tasks, queues, retries, breakers and SLOs in the Prometheus text format."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    sizes, backlog, breakers = await orchestrator.store.read(lambda tx: _shared(tx, now))
    observed = orchestrator.observer.metrics
    observed.set_queue_depths(sizes)
    ready: dict[str, Any] = backlog_json(backlog, now)
    observed.set_backlog({k: (v["depth"], v["oldestAgeSeconds"]) for k, v in ready.items()})
    observed.set_breakers(breakers)
    observed.set_slos(
        [
            (r.slo.name, r.slo.target, r.value, r.budget_remaining, r.burn_rates())
            for r in await slo_reports(request, cached=True)
        ]
    )
    return Response(observed.render(), media_type=CONTENT_TYPE_LATEST)
