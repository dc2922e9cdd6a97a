"""What happens to a run (events) and what the engine asks the outside world to do (commands).

Every event carries ``now`` (epoch milliseconds): the engine never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.engine.state import RunState, TaskStatus

__all__ = [
    "AddTaskLog",
    "AwaitEvent",
    "CancelTimer",
    "ChildFinished",
    "Command",
    "Decision",
    "Dequeue",
    "Enqueue",
    "Event",
    "NotifyParent",
    "PauseRun",
    "PublishEvent",
    "RerunRun",
    "RestartRun",
    "ResumeRun",
    "RetryRun",
    "RunStarted",
    "SkipTask",
    "StartChild",
    "StartTimer",
    "StartWorkflow",
    "TaskProgress",
    "TaskResult",
    "TerminateChild",
    "TerminateRun",
    "TimerFired",
    "UpdateVariables",
]


@dataclass(frozen=True, slots=True)
class RunStarted:
    now: int


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A worker, the HTTP executor or a signal finished a task."""

    now: int
    task_id: str
    status: TaskStatus
    output: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    worker_id: str | None = None
    started_at: int | None = None
    poll_count: int = 0
    logs: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """A worker reports IN_PROGRESS: output so far and logs, task stays with the worker."""

    now: int
    task_id: str
    output: dict[str, Any] = field(default_factory=dict)
    worker_id: str | None = None
    started_at: int | None = None
    poll_count: int = 0
    callback_after_s: int = 0
    logs: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class TimerFired:
    now: int
    key: str


@dataclass(frozen=True, slots=True)
class ChildFinished:
    now: int
    task_id: str
    child_run_id: str
    child_status: str
    output: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PauseRun:
    now: int


@dataclass(frozen=True, slots=True)
class ResumeRun:
    now: int


@dataclass(frozen=True, slots=True)
class TerminateRun:
    now: int
    reason: str | None = None
    compensate: bool = False
    """Undo the completed steps (their compensations, newest first) before ending."""


@dataclass(frozen=True, slots=True)
class RetryRun:
    """Re-run the failed steps of a run that ended, keeping what completed."""

    now: int


@dataclass(frozen=True, slots=True)
class RestartRun:
    """Run again from the first step, with the same id and input."""

    now: int


@dataclass(frozen=True, slots=True)
class RerunRun:
    """Run an ended run again from one of its tasks (or from the start, with no task).

    Tasks after it are dropped; what ran before it is kept. ``task_input`` replaces the
    rerun task's input, ``workflow_input`` the run's.
    """

    now: int
    task_id: str | None = None
    task_input: dict[str, Any] | None = None
    workflow_input: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SkipTask:
    """Skip the step ``ref`` of a running run: now if it is active, else when it is reached."""

    now: int
    ref: str
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AddTaskLog:
    """A log line for a task, from its worker or an operator."""

    now: int
    task_id: str
    log: str


@dataclass(frozen=True, slots=True)
class UpdateVariables:
    """Merge ``variables`` into an open run's variables (Orkes' variables update)."""

    now: int
    variables: dict[str, Any] = field(default_factory=dict)


Event = (
    RunStarted
    | TaskResult
    | TaskProgress
    | TimerFired
    | ChildFinished
    | PauseRun
    | ResumeRun
    | TerminateRun
    | RetryRun
    | RestartRun
    | RerunRun
    | SkipTask
    | AddTaskLog
    | UpdateVariables
)


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Make a task claimable from ``queue`` from ``available_at`` on."""

    task_id: str
    queue: str
    available_at: int
    response_timeout_s: int


@dataclass(frozen=True, slots=True)
class Dequeue:
    """Withdraw a task from its queue (canceled, timed out, or finished by someone else)."""

    task_id: str


@dataclass(frozen=True, slots=True)
class StartTimer:
    key: str
    due_at: int


@dataclass(frozen=True, slots=True)
class CancelTimer:
    key: str


@dataclass(frozen=True, slots=True)
class StartChild:
    """Start a sub-workflow (or the failure workflow) run."""

    child_run_id: str
    name: str
    version: int | None
    input: dict[str, Any]
    correlation_id: str | None
    parent_run_id: str | None
    parent_task_id: str | None
    depth: int = 0
    """The child's nesting depth: its parent's plus one (0 for a failure workflow)."""
    task_to_domain: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    definition: dict[str, Any] | None = None
    """An inline sub-workflow's definition, named: the child runs it, not a registered one."""


@dataclass(frozen=True, slots=True)
class StartWorkflow:
    """Start an independent run for a START_WORKFLOW task, then finish that task with its id.

    Not a child: the new run has no parent and this run never hears how it ends. The task
    completes with ``workflowId`` once the run is started, or fails with why it could not be.
    """

    task_id: str
    run_id: str
    name: str
    version: int | None
    input: dict[str, Any]
    correlation_id: str | None
    task_to_domain: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    depth: int = 0
    """The new run's depth: this run's plus one, as a child's, so that a workflow that starts
    itself stops at the depth limit."""


@dataclass(frozen=True, slots=True)
class TerminateChild:
    child_run_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class NotifyParent:
    """This run ended; the parent's SUB_WORKFLOW task learns how."""

    parent_run_id: str
    parent_task_id: str
    child_run_id: str
    child_status: str
    output: dict[str, Any]
    reason: str | None


@dataclass(frozen=True, slots=True)
class PublishEvent:
    """Publish on the event bus (and, for a broker sink, through its bridge after commit)."""

    event_id: str
    topic: str
    type: str
    payload: dict[str, Any]
    correlation_id: str | None
    source: str
    run_id: str
    task_id: str
    broker: str
    destination: str


@dataclass(frozen=True, slots=True)
class AwaitEvent:
    """A WAIT task waits for an event named ``event`` with ``correlation_id`` (None: any)."""

    task_id: str
    event: str
    correlation_id: str | None


Command = (
    Enqueue
    | Dequeue
    | StartTimer
    | CancelTimer
    | StartChild
    | StartWorkflow
    | TerminateChild
    | NotifyParent
    | PublishEvent
    | AwaitEvent
)


@dataclass(frozen=True, slots=True)
class Decision:
    state: RunState
    commands: tuple[Command, ...]
