"""``/api/trace/{correlationId}``: one business transaction, rebuilt from what it left."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from podium.events.trace import build_trace
from podium.server.state import orchestrator_of

__all__ = ["router"]

router = APIRouter(prefix="/api/trace", tags=["trace"])


@router.get("/{correlation_id}")
async def trace(correlation_id: str, request: Request) -> dict[str, Any]:
    """Runs, tasks, events and deliveries of ``correlation_id`` in causal and time order."""
    return await build_trace(orchestrator_of(request), correlation_id)
