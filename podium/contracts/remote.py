"""The contract registry of a running server, over its REST API."""

from __future__ import annotations

from typing import Any, Self

from podium.client import PodiumClient, _segment
from podium.contracts.model import Contract, parse_contract

__all__ = ["ContractsClient", "is_server"]


def is_server(source: str) -> bool:
    """Whether a command-line source names a server rather than a path."""
    return source.startswith(("http://", "https://"))


class ContractsClient(PodiumClient):
    """A PodiumClient that also speaks ``/api/contracts``."""

    def __enter__(self) -> Self:
        return self

    def push_contracts(self, contracts: list[Contract]) -> dict[str, list[str]]:
        """Register versions, all or none; answers which were new and which already stored."""
        body = [contract.to_json() for contract in contracts]
        result: dict[str, list[str]] = self._json("POST", "/api/contracts", json_body=body)
        return result

    def list_contracts(self, kind: str | None = None, all_versions: bool = False) -> list[Contract]:
        params: dict[str, Any] = {"kind": kind, "allVersions": "true" if all_versions else None}
        bodies = self._json("GET", "/api/contracts", params=params)
        return [parse_contract(body) for body in bodies]

    def get_contract(self, kind: str, name: str, version: str | None = None) -> Contract:
        path = f"/api/contracts/{_segment(kind)}/{_segment(name)}"
        return parse_contract(self._json("GET", path, params={"version": version}))

    def contract_versions(self, kind: str, name: str) -> list[str]:
        path = f"/api/contracts/{_segment(kind)}/{_segment(name)}/versions"
        versions: list[str] = self._json("GET", path)
        return versions

    def catalogue(self, format: str = "md") -> str:
        return self._request("GET", "/api/contracts/catalogue", params={"format": format}).text
