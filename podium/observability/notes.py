"""What a unit of work did, as the orchestrator notes it for the observer: runs begun and
ended, tasks ended, retried and claimed.

Their own module, since both the observer (metrics, the log line) and the spans read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.engine.state import RunState, TaskState

__all__ = ["Note", "RunBegan", "RunEnded", "TaskClaimed", "TaskEnded", "TaskRetried"]


@dataclass(frozen=True, slots=True)
class RunBegan:
    """A run was started."""

    run: RunState


@dataclass(frozen=True, slots=True)
class RunEnded:
    """A run ended."""

    run: RunState


@dataclass(frozen=True, slots=True)
class TaskEnded:
    """A task attempt ended; ``service`` is the service its step names, if any."""

    run: RunState
    task: TaskState
    service: str | None


@dataclass(frozen=True, slots=True)
class TaskRetried:
    """A task attempt was followed by a new attempt."""

    run_id: str
    task: TaskState


@dataclass(frozen=True, slots=True)
class TaskClaimed:
    """A worker was handed a task after it waited ``wait_ms`` on its queue."""

    run_id: str
    task: TaskState
    wait_ms: int


Note = RunBegan | RunEnded | TaskEnded | TaskRetried | TaskClaimed
