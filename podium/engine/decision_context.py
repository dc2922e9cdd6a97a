"""What a task type's handler, compensation and the operator's rework may use of the
decision being made: the run, the event's clock reading, the definition, the commands so far,
and the decider's own steps (schedule, enqueue, finish, fail, end).

``engine/decider.py``'s ``Decider`` is the one implementation. Code that runs a task type
depends on this protocol, not on the decider, so that the decider may import it and a handler
can be run against a small fake in a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from podium.dsl.models import TaskDef, WorkflowTask
from podium.engine.blueprint import Blueprint
from podium.engine.context import RunContext
from podium.engine.events import Command
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus

__all__ = ["DecisionContext"]


class DecisionContext(Protocol):
    """One decision: the run as it stands and the steps that change it."""

    state: RunState
    """The run, this decision's copy: change a task only through ``state.edit(task)``."""
    blueprint: Blueprint
    now: int
    """The event's clock reading, in milliseconds: the engine reads no clock of its own."""
    commands: list[Command]
    """What must happen outside the engine, in order; a handler appends to it."""
    task_defs: Mapping[str, TaskDef]
    """The registered TaskDefs, for steps no definition names (a routing slip's)."""
    loop_iterations: int
    """DO_WHILE iterations started in this decision (see do_while.ITERATIONS_PER_DECISION)."""
    loop_outputs_read: int
    """Iteration outputs the loop conditions of this decision were given, between them."""
    jq_queries: int
    """jq queries run inside this decision (see jq_step.INLINE_PER_DECISION)."""

    def context(self) -> RunContext:
        """What ``${...}`` expressions read: the run as it stands."""
        ...

    def task_def(self, step: WorkflowTask) -> TaskDef:
        """The TaskDef in force for ``step``: its own, or the defaults of its kind."""
        ...

    def step_of(self, task: TaskState) -> WorkflowTask:
        """The step ``task`` is an attempt of: in the definition, or stored on the task."""
        ...

    def successors_of(self, task: TaskState) -> list[WorkflowTask]:
        """The steps that follow ``task`` once it succeeded."""
        ...

    def next_task_id(self) -> str:
        """The id the next task ``schedule`` adds will have (its input may read it)."""
        ...

    def schedule(
        self,
        step: WorkflowTask,
        retry_of: TaskState | None = None,
        *,
        immediate: bool = False,
        within: TaskState | None = None,
        loop: tuple[str, int] | None = None,
        dynamic: dict[str, Any] | None = None,
        task_input: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
    ) -> TaskState:
        """Add an attempt of ``step`` and start it through its type's handler."""
        ...

    def enqueue(self, task: TaskState, step: WorkflowTask, queue: str) -> None:
        """Hand ``task`` to the workers polling ``queue``."""
        ...

    def finish(self, task: TaskState, status: TaskStatus) -> None:
        """End ``task`` with a successful ``status``; advancing the run follows it."""
        ...

    def fail(self, task: TaskState, status: TaskStatus, reason: str | None) -> None:
        """End ``task`` unsuccessfully: retried, let go if optional, or the run fails."""
        ...

    def end(
        self,
        status: RunStatus,
        reason: str | None,
        *,
        failed: TaskState | None = None,
        keep_output: bool = False,
    ) -> None:
        """End the run (or begin its compensation, when a failure compensates)."""
        ...

    def begin(self) -> None:
        """Start the run from its first step."""
        ...

    def cancel_active(self) -> None:
        """Cancel every active task, with its queue entry, timers and child run."""
        ...

    def clear_task_timers(self, task: TaskState) -> None:
        """Cancel the timers ``task`` holds, once it has ended."""
        ...
