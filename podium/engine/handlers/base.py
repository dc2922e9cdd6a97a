"""``TaskHandler``: what the decider asks of a task type, as Conductor asks a
``WorkflowSystemTask``: start a new attempt, look again at one that waits on other tasks,
choose what follows it, and clear what it holds when it ends.

A handler keeps no state of its own (one instance serves every run); all it reads and changes
is in the ``DecisionContext`` it is handed. The defaults are those of a task that ends in one
call, or on a worker's result, and is followed by the definition's next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from podium.dsl.models import WorkflowTask
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["TaskHandler", "Unsupported"]


class TaskHandler:
    """One task type's behaviour. Subclasses override ``start`` and what else differs."""

    waits_on_others: ClassVar[bool] = False
    """Whether the task stays IN_PROGRESS until other tasks of the run have done something,
    so that every decision calls ``check`` on it (JOIN, DO_WHILE, ROUTING_SLIP...)."""
    worker_defaults: ClassVar[bool] = False
    """Whether a step with no TaskDef gets Conductor's defaults for a worker's task (three
    retries, a response timeout) rather than a system task's (no retries)."""
    outside_effects: ClassVar[bool] = False
    """Whether a completed task may have changed something outside the run: a saga lists it
    as not compensated when its step declares no compensation."""
    brings_compensations: ClassVar[bool] = False
    """Whether the task runs steps given at run time that may declare compensations, so that
    a definition holding it compensates on failure (ROUTING_SLIP)."""
    uses_secrets: ClassVar[bool] = False
    """Whether a definition's own step of this type may read ``${workflow.secrets...}`` (an
    HTTP call's); a step made of run-time data never may."""
    input_made_at_run_time: ClassVar[bool] = False
    """Whether the task's input was made when it was scheduled, not from its step (a JOIN
    after a dynamic fork lists the branches), so that a retry keeps the input it had."""

    def start(
        self,
        d: DecisionContext,
        task: TaskState,
        step: WorkflowTask,
        retry_of: TaskState | None,
    ) -> None:
        """Start ``task``, just scheduled as an attempt of ``step`` (a retry of ``retry_of``):
        queue it, finish it at once, or leave it IN_PROGRESS."""
        raise NotImplementedError

    def check(self, d: DecisionContext, task: TaskState) -> bool:
        """Only when ``waits_on_others``: look again at ``task``, IN_PROGRESS; whether that
        changed the run (it finished, failed, or scheduled more)."""
        return False

    def selected_case(self, task: TaskState) -> str | None:
        """The case of the step's ``decisionCases`` that follows ``task``, if it chooses one."""
        return None

    def schedule_successors(self, d: DecisionContext, task: TaskState) -> None:
        """Schedule what follows ``task`` once it succeeded: by default the definition's."""
        for step in d.successors_of(task):
            d.schedule(step, within=task)

    def clear_timers(self, d: DecisionContext, task: TaskState) -> None:
        """Cancel the timers of the task's own kind, once it has ended (a WAIT's)."""
        return None

    def keeps_open(self, d: DecisionContext, task: TaskState, status: TaskStatus) -> bool:
        """Whether a result with ``status`` from the task's queue leaves it IN_PROGRESS, to
        be completed later through the API (Conductor's async complete); it then does so.
        ``task`` is the decision's own to change."""
        return False


class Unsupported(TaskHandler):
    """A type no handler is registered for. Validation refuses such definitions; a run
    stored before a type was withdrawn may still hold one."""

    def start(
        self,
        d: DecisionContext,
        task: TaskState,
        step: WorkflowTask,
        retry_of: TaskState | None,
    ) -> None:
        d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, f"unsupported task type {step.type}")
