"""The values a unit of work passes around: what it returns and what it leaves for after
the commit."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from podium.engine.state import RunState, TaskState
from podium.observability.notes import Note
from podium.resilience.breaker import Transition
from podium.server.attribution import Blame
from podium.store.base import QueueEntry

__all__ = ["Claimed", "Outbox", "RunView", "now_ms"]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class RunView:
    """A run with the live lease data of its queued tasks."""

    state: RunState
    entries: dict[str, QueueEntry]
    blames: dict[str, Blame] = field(default_factory=dict)
    """Who is behind each task that names a service or failed, by task id."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A task handed to a worker, with the run it belongs to."""

    state: RunState
    task: TaskState
    entry: QueueEntry


@dataclass(slots=True)
class Outbox:
    """What to do once the transaction has committed."""

    ready_queues: set[str] = field(default_factory=set)
    ready_tasks: dict[str, set[str]] = field(default_factory=dict)
    """The tasks this unit queued ready to claim, by queue."""
    poke_sweeper: bool = False
    transitions: list[tuple[str, Transition]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    deliveries: bool = False
    outbox_brokers: set[str] = field(default_factory=set)
    stored_definitions: set[str] = field(default_factory=set)
    """Content keys of run definitions this unit wrote: in the database once it commits."""
    notes: list[Note] = field(default_factory=list)
    """What the unit did, for metrics, spans and its log line."""
