"""What the ASGI app keeps for its routes."""

from __future__ import annotations

from starlette.requests import Request

from podium.server.orchestrator import Orchestrator

__all__ = ["orchestrator_of"]


def orchestrator_of(request: Request) -> Orchestrator:
    orchestrator: Orchestrator = request.app.state.orchestrator
    return orchestrator
