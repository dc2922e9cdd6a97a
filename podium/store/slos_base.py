"""What a store keeps for SLOs: their versions, and a row per run and task attempt that ended
(the outcomes SLOs are computed from)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Good", "OutcomeFilter", "OutcomeRow", "SloRow", "SloStoreTx"]


@dataclass(frozen=True, slots=True)
class SloRow:
    name: str
    version: int
    body: dict[str, Any]
    created_at: int


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    ended_at: int
    workflow: str
    step: str
    """The task's taskReferenceName; '' for the run itself."""
    service: str | None
    status: str
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class OutcomeFilter:
    """Which outcomes an SLO counts: a workflow's runs (``step`` ''), one of its steps' task
    attempts, or the task attempts a service owns (in one workflow if ``workflow`` is set)."""

    workflow: str | None
    step: str
    service: str | None


@dataclass(frozen=True, slots=True)
class Good:
    """What makes an outcome good: one of ``statuses``, or at most ``max_duration_ms`` long
    (outcomes with no duration are then left out)."""

    statuses: tuple[str, ...] = ()
    max_duration_ms: int | None = None


class SloStoreTx(Protocol):
    """SLO operations inside one transaction (part of ``StoreTx``)."""

    def put_slo(self, name: str, body: dict[str, Any], now: int) -> int | None:
        """Store ``body`` as the next version of ``name``; None (and nothing stored) when the
        latest version has that body already."""
        ...

    def get_slo(self, name: str, version: int | None = None) -> SloRow | None:
        """One version, or the latest when ``version`` is None."""
        ...

    def list_slos(self) -> list[SloRow]:
        """The latest version of every SLO, by name."""
        ...

    def list_slo_versions(self, name: str) -> list[SloRow]:
        """Every version of one SLO, lowest first."""
        ...

    def delete_slo(self, name: str) -> bool:
        """Remove an SLO with all its versions."""
        ...

    def add_outcomes(self, rows: list[OutcomeRow]) -> None: ...

    def count_outcomes(
        self, which: OutcomeFilter, good: Good, now: int, since: list[int]
    ) -> list[tuple[int, int]]:
        """(total, good) of the outcomes that ended in ``(s, now]``, for each ``s``."""
        ...

    def outcome_duration_at(
        self, which: OutcomeFilter, now: int, since: int, rank: int
    ) -> int | None:
        """The ``rank``-th shortest duration (0-based) of the outcomes ended in ``(since, now]``."""
        ...

    def remove_outcomes(self, ended_before: int, limit: int) -> int:
        """Drop outcomes that ended before ``ended_before``, about ``limit`` at a time (the
        oldest first); how many went."""
        ...
