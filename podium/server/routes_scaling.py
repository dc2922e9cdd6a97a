"""``/api/scaling/queues``: each queue's backlog, in the shape KEDA's ``metrics-api`` scaler
reads (``valueLocation: depth``, or ``queues.<type>.depth`` from the whole list).

A queue is a task type (or Conductor's ``domain:type``); its depth counts the tasks ready to
be handed out now, not those leased to a worker nor those waiting out a retry delay, and its
age is how long the oldest of them has waited since it became ready.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from podium.observability.metrics import queue_label
from podium.server.state import orchestrator_of

__all__ = ["backlog_json", "router"]

router = APIRouter(prefix="/api/scaling", tags=["observability"])


def backlog_json(backlog: dict[str, tuple[int, int]], now: int) -> dict[str, dict[str, Any]]:
    """``{type: {depth, oldestAgeSeconds}}`` of ``StoreTx.queue_backlog``'s answer."""
    return {
        queue_label(queue): {"depth": depth, "oldestAgeSeconds": max(0, now - oldest) / 1000}
        for queue, (depth, oldest) in sorted(backlog.items())
    }


async def _backlog(request: Request) -> dict[str, dict[str, Any]]:
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    backlog = await orchestrator.store.read(lambda tx: tx.queue_backlog(now))
    return backlog_json(backlog, now)


@router.get("/queues")
async def queues(request: Request) -> dict[str, Any]:
    """Every queue with tasks waiting: ``{"queues": {type: {depth, oldestAgeSeconds}}}``."""
    return {"queues": await _backlog(request)}


@router.get("/queues/{task_type}")
async def queue(task_type: str, request: Request) -> dict[str, Any]:
    """One queue's ``{depth, oldestAgeSeconds}``; an empty or unknown queue is 0 and 0, so
    that the scaler reads "nothing to do" rather than an error."""
    found = (await _backlog(request)).get(task_type)
    return found if found is not None else {"depth": 0, "oldestAgeSeconds": 0.0}
