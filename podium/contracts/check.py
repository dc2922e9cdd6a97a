"""Comparing two sets of contracts (a repository's folder, a server's registry) for CI.

Each contract is compared at its highest version on each side and classified; a breaking
change passes only when the new version's major number is higher. A contract whose content
changed under the same version, or whose version went down, fails too: the registry would
refuse to store it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from podium.contracts.compat import Change, Direction, diff_schemas
from podium.contracts.model import SCHEMA_PARTS, Contract

__all__ = ["ContractDiff", "Outcome", "Report", "compare", "latest"]

_DIRECTION: dict[str, Direction] = {"input": "accepts", "output": "produces", "payload": "produces"}
_NOUN = {"task": "task contract", "workflow": "workflow contract", "event": "event type"}


class Outcome(StrEnum):
    UNCHANGED = "unchanged"
    COMPATIBLE = "compatible"
    BREAKING_ALLOWED = "breaking, allowed by the new major version"
    BREAKING = "BREAKING"
    ADDED = "added"
    REMOVED = "REMOVED"
    NOT_VERSIONED = "CHANGED WITHOUT A NEW VERSION"
    VERSION_DOWN = "VERSION WENT DOWN"

    @property
    def fails(self) -> bool:
        return self in (
            Outcome.BREAKING,
            Outcome.REMOVED,
            Outcome.NOT_VERSIONED,
            Outcome.VERSION_DOWN,
        )


@dataclass(frozen=True, slots=True)
class PartChange:
    part: str
    change: Change


@dataclass(slots=True)
class ContractDiff:
    kind: str
    name: str
    old: Contract | None
    new: Contract | None
    changes: list[PartChange] = field(default_factory=list)
    outcome: Outcome = Outcome.UNCHANGED

    @property
    def breaking(self) -> bool:
        return any(item.change.breaking for item in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "oldVersion": str(self.old.version) if self.old else None,
            "newVersion": str(self.new.version) if self.new else None,
            "outcome": self.outcome.name.lower(),
            "fails": self.outcome.fails,
            "changes": [
                {
                    "part": item.part,
                    "path": item.change.path,
                    "breaking": item.change.breaking,
                    "message": item.change.message,
                }
                for item in self.changes
            ],
        }


@dataclass(slots=True)
class Report:
    diffs: list[ContractDiff]

    @property
    def fails(self) -> bool:
        return any(diff.outcome.fails for diff in self.diffs)

    @property
    def exit_code(self) -> int:
        """0: safe to merge; 1: a breaking change without a new major version (or similar)."""
        return 1 if self.fails else 0

    def changed(self) -> list[ContractDiff]:
        return [diff for diff in self.diffs if diff.outcome != Outcome.UNCHANGED]

    def to_json(self) -> dict[str, Any]:
        return {"fails": self.fails, "contracts": [diff.to_json() for diff in self.changed()]}


def latest(contracts: list[Contract]) -> dict[tuple[str, str], Contract]:
    """The highest version of each contract."""
    found: dict[tuple[str, str], Contract] = {}
    for contract in contracts:
        held = found.get(contract.key)
        if held is None or contract.version > held.version:
            found[contract.key] = contract
    return found


def compare(old: list[Contract], new: list[Contract]) -> Report:
    before, after = latest(old), latest(new)
    diffs = [
        _diff(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
    ]
    return Report(diffs)


def _diff(key: tuple[str, str], old: Contract | None, new: Contract | None) -> ContractDiff:
    kind, name = key
    diff = ContractDiff(kind, name, old, new)
    if old is None:
        diff.outcome = Outcome.ADDED
        return diff
    if new is None:
        removed = Change("$", True, f"{_NOUN[kind]} '{name}' removed")
        diff.changes.append(PartChange("contract", removed))
        diff.outcome = Outcome.REMOVED
        return diff
    for part in SCHEMA_PARTS[kind]:
        for change in _part_changes(old.schema(part), new.schema(part), _DIRECTION[part], part):
            diff.changes.append(PartChange(part, change))
    diff.outcome = _outcome(old, new, diff)
    return diff


def _part_changes(
    old: dict[str, Any] | None, new: dict[str, Any] | None, direction: Direction, part: str
) -> list[Change]:
    if old is None and new is None:
        return []
    if new is None:
        # No schema is "anything goes": callers gain, consumers lose every guarantee.
        return [Change("$", direction == "produces", f"{part} schema removed")]
    if old is None:
        return [Change("$", direction == "accepts", f"{part} schema added")]
    return diff_schemas(old, new, direction)


def _outcome(old: Contract, new: Contract, diff: ContractDiff) -> Outcome:
    same_content = old.to_json() == new.to_json()
    if new.version < old.version:
        return Outcome.VERSION_DOWN
    if new.version == old.version:
        return Outcome.UNCHANGED if same_content else Outcome.NOT_VERSIONED
    if diff.breaking:
        return (
            Outcome.BREAKING_ALLOWED if new.version.major > old.version.major else Outcome.BREAKING
        )
    return Outcome.COMPATIBLE
