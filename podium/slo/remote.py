"""The SLOs of a running server, over its REST API."""

from __future__ import annotations

from typing import Any, Self

from podium.client import PodiumClient, _segment
from podium.slo.model import Slo

__all__ = ["SlosClient"]


class SlosClient(PodiumClient):
    """A PodiumClient that also speaks ``/api/slos``."""

    def __enter__(self) -> Self:
        return self

    def push_slos(self, slos: list[Slo]) -> dict[str, list[str]]:
        """Register SLOs, all or none; answers which got a new version and which were
        unchanged."""
        body = [slo.to_json() for slo in slos]
        result: dict[str, list[str]] = self._json("POST", "/api/slos", json_body=body)
        return result

    def list_slos(
        self, workflow: str | None = None, service: str | None = None
    ) -> list[dict[str, Any]]:
        """Every SLO with its status now."""
        found: list[dict[str, Any]] = self._json(
            "GET", "/api/slos", params={"workflow": workflow, "service": service}
        )
        return found

    def get_slo(self, name: str, version: int | None = None) -> dict[str, Any]:
        found: dict[str, Any] = self._json(
            "GET", f"/api/slos/{_segment(name)}", params={"version": version}
        )
        return found
