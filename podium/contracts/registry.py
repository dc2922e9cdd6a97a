"""The contract registry inside a store transaction: push a version, find one, list them.

A version is immutable once pushed: pushing it again with the same content changes nothing,
with different content it is refused. That is what lets every server cache a version forever.
"""

from __future__ import annotations

from podium.contracts.binding import SchemaRef
from podium.contracts.model import Contract, parse_contract
from podium.errors import ConflictError
from podium.store.base import StoreTx

__all__ = ["find", "push", "versions"]


def push(tx: StoreTx, contract: Contract, now: int) -> bool:
    """Store ``contract``; False when that exact version and content were already stored."""
    body = contract.to_json()
    if tx.put_contract(contract.kind, contract.name, contract.version.parts(), body, now):
        return True
    stored = tx.get_contract(contract.kind, contract.name, str(contract.version))
    if stored is not None and parse_contract(stored) != contract:
        raise ConflictError(
            f"{contract.label} is already registered with different content; a version never "
            f"changes once pushed, so push this as a new version (a new major version if the "
            f"change breaks callers)",
            service="contracts",
            field="version",
        )
    return False


def versions(tx: StoreTx, kind: str, name: str) -> list[str]:
    return tx.list_contract_versions(kind, name)


def find(tx: StoreTx, kind: str, ref: SchemaRef) -> Contract | None:
    """The highest version ``ref`` selects, or None."""
    chosen = ref.pick(tx.list_contract_versions(kind, ref.name))
    if chosen is None:
        return None
    body = tx.get_contract(kind, ref.name, chosen)
    return parse_contract(body) if body is not None else None
