"""A circuit breaker as a pure state machine: (state, outcome or request, now) -> state.

The store keeps one ``BreakerState`` per service, so every server instance sees the same
breaker; callers lock it, apply one of these functions, and write it back with any
transition they return.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from podium.dsl.services import BreakerConfig

__all__ = ["Admission", "BreakerState", "Circuit", "Transition", "admit", "record"]


class Circuit(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class Admission(StrEnum):
    ALLOW = "allow"
    PROBE = "probe"
    """Allowed as one of the half-open breaker's trial calls."""
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Transition:
    from_state: Circuit
    to_state: Circuit
    reason: str


@dataclass(frozen=True, slots=True)
class BreakerState:
    circuit: Circuit = Circuit.CLOSED
    consecutive_failures: int = 0
    recent: tuple[bool, ...] = field(default=())
    """Outcomes of the latest calls (True: failed), oldest first, at most windowSize."""
    opened_at: int | None = None
    probes: int = 0
    """Trial calls handed out while half-open and not yet reported."""

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["circuit"] = str(self.circuit)
        body["recent"] = list(self.recent)
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any] | None) -> BreakerState:
        if not body:
            return cls()
        return cls(
            circuit=Circuit(body.get("circuit", Circuit.CLOSED)),
            consecutive_failures=int(body.get("consecutive_failures", 0)),
            recent=tuple(bool(x) for x in body.get("recent", ())),
            opened_at=body.get("opened_at"),
            probes=int(body.get("probes", 0)),
        )

    def reopens_at(self, config: BreakerConfig) -> int | None:
        """When an open breaker lets its first trial call through."""
        if self.circuit != Circuit.OPEN or self.opened_at is None:
            return None
        return self.opened_at + int(config.openSeconds * 1000)


def _open(state: BreakerState, now: int, reason: str) -> tuple[BreakerState, Transition]:
    opened = replace(state, circuit=Circuit.OPEN, opened_at=now, probes=0)
    return opened, Transition(state.circuit, Circuit.OPEN, reason)


def admit(
    state: BreakerState, config: BreakerConfig, now: int
) -> tuple[Admission, BreakerState, Transition | None]:
    """May a call go to the service now?"""
    transition = None
    if state.circuit == Circuit.OPEN:
        reopens = state.reopens_at(config)
        if reopens is None or now < reopens:
            return Admission.DENY, state, None
        half_open = replace(state, circuit=Circuit.HALF_OPEN, probes=0)
        transition = Transition(
            Circuit.OPEN, Circuit.HALF_OPEN, f"open for {config.openSeconds:g} s: trying again"
        )
        state = half_open
    if state.circuit == Circuit.HALF_OPEN:
        if state.probes >= config.halfOpenProbes:
            return Admission.DENY, state, transition
        return Admission.PROBE, replace(state, probes=state.probes + 1), transition
    return Admission.ALLOW, state, transition


def record(
    state: BreakerState, config: BreakerConfig, failed: bool, now: int, detail: str = ""
) -> tuple[BreakerState, Transition | None]:
    """Count a call's outcome; open or close the breaker when it says so."""
    recent = (*state.recent, failed)[-config.windowSize :]
    consecutive = state.consecutive_failures + 1 if failed else 0
    counted = replace(state, recent=recent, consecutive_failures=consecutive)
    why = f": {detail}" if detail else ""
    if state.circuit == Circuit.HALF_OPEN:
        if failed:
            return _open(counted, now, f"a trial call failed{why}")
        closed = BreakerState()
        return closed, Transition(Circuit.HALF_OPEN, Circuit.CLOSED, "a trial call succeeded")
    if state.circuit == Circuit.OPEN or not failed:
        return counted, None
    if consecutive >= config.failureThreshold:
        return _open(counted, now, f"{consecutive} consecutive failures{why}")
    if config.failureRatio is not None and len(recent) >= config.minimumCalls:
        ratio = sum(recent) / len(recent)
        if ratio >= config.failureRatio:
            return _open(
                counted,
                now,
                f"{sum(recent)} of the last {len(recent)} calls failed ({ratio:.0%}){why}",
            )
    return counted, None
