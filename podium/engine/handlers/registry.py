"""Task type -> handler, as Conductor's ``SystemTaskRegistry``: the decider asks the registry
what a type does, and a new type is one handler module and one line below.

The registry also keeps, for the decider's per-step path, what it would otherwise ask every
handler: which types wait on others (checked while IN_PROGRESS), which get a worker's default
TaskDef. ``REGISTRY`` shares its set of waiting types with the task index
(``task_index.CHECKED_WHILE_RUNNING``), so that the index and the decider agree on which
running tasks a decision may move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import TaskType, WorkflowTask
from podium.engine import task_index
from podium.engine.handlers import (
    do_while,
    dynamic,
    event,
    exclusive_join,
    guards,
    http,
    join,
    jq_transform,
    routing_slip,
    sub_workflow,
    switch,
    system,
    wait,
    worker,
)
from podium.engine.handlers.base import TaskHandler, Unsupported
from podium.engine.state import TaskState

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["REGISTRY", "Registry"]

_UNSUPPORTED = Unsupported()


class _Handlers(dict[str, TaskHandler]):
    """A type's handler, or the one that fails its task: looked up by subscription, which
    costs no call on the per-step path."""

    def __missing__(self, task_type: str) -> TaskHandler:
        return _UNSUPPORTED


def _overrides(handler: TaskHandler, method: str) -> bool:
    return getattr(type(handler), method) is not getattr(TaskHandler, method)


class Registry:
    """Handlers by task type (a ``TaskType``, or any name a test gives).

    Beside the handlers, it keeps the sets of types whose handler does something of its own,
    so that the decider's per-step path asks a handler only when it has something to say:
    a set look-up is cheaper than calling a default that does nothing.
    """

    def __init__(self, waiting: set[str] | None = None) -> None:
        self.handlers = _Handlers()
        self.waiting: set[str] = waiting if waiting is not None else set()
        """The types whose handler ``waits_on_others``: checked while IN_PROGRESS."""
        self.worker_defaults: set[str] = set()
        """The types whose handler has ``worker_defaults``."""
        self.uses_secrets: set[str] = set()
        """The types whose handler ``uses_secrets``."""
        self.selecting: set[str] = set()
        """The types whose handler has a ``selected_case``."""
        self.own_successors: set[str] = set()
        """The types whose handler schedules its successors its own way."""
        self.own_timers: set[str] = set()
        """The types whose handler has timers of its own to clear."""

    def register(self, task_type: str, handler: TaskHandler) -> None:
        """Make ``handler`` the one for ``task_type``; a type has one handler."""
        if task_type in self.handlers:
            raise ValueError(f"task type {task_type} already has a handler")
        self.handlers[task_type] = handler
        for kinds, has in (
            (self.waiting, handler.waits_on_others),
            (self.worker_defaults, handler.worker_defaults),
            (self.uses_secrets, handler.uses_secrets),
            (self.selecting, _overrides(handler, "selected_case")),
            (self.own_successors, _overrides(handler, "schedule_successors")),
            (self.own_timers, _overrides(handler, "clear_timers")),
        ):
            if has:
                kinds.add(task_type)

    def handler(self, task_type: str) -> TaskHandler:
        """The handler of ``task_type``; one that fails the task for a type with none."""
        return self.handlers[task_type]

    def types(self) -> frozenset[str]:
        return frozenset(self.handlers)

    def start(
        self,
        d: DecisionContext,
        task: TaskState,
        step: WorkflowTask,
        retry_of: TaskState | None,
    ) -> None:
        """Start ``task``, just scheduled, unless a run limit refuses it first."""
        if guards.refuse_past_task_limit(d, task) or guards.refuse_deep_input(d, task):
            return
        self.handlers[step.type].start(d, task, step, retry_of)

    def check(self, d: DecisionContext, task: TaskState) -> bool:
        """Look again at ``task``, IN_PROGRESS, if its type waits on others; whether the run
        changed."""
        return task.type in self.waiting and self.handlers[task.type].check(d, task)


REGISTRY = Registry(waiting=task_index.CHECKED_WHILE_RUNNING)
"""The engine's task types."""

REGISTRY.register(TaskType.SIMPLE, worker.SimpleHandler())
REGISTRY.register(TaskType.HTTP, http.HttpHandler())
REGISTRY.register(TaskType.NOOP, system.NoopHandler())
REGISTRY.register(TaskType.FORK_JOIN, system.ForkHandler())
REGISTRY.register(TaskType.SET_VARIABLE, system.SetVariableHandler())
REGISTRY.register(TaskType.INLINE, system.InlineHandler())
REGISTRY.register(TaskType.LAMBDA, system.LambdaHandler())
REGISTRY.register(TaskType.TERMINATE, system.TerminateHandler())
REGISTRY.register(TaskType.JSON_JQ_TRANSFORM, jq_transform.JqTransformHandler())
REGISTRY.register(TaskType.SWITCH, switch.SwitchHandler())
REGISTRY.register(TaskType.DECISION, switch.DecisionHandler())
REGISTRY.register(TaskType.JOIN, join.JoinHandler())
REGISTRY.register(TaskType.EXCLUSIVE_JOIN, exclusive_join.ExclusiveJoinHandler())
REGISTRY.register(TaskType.FORK_JOIN_DYNAMIC, dynamic.DynamicForkHandler())
REGISTRY.register(TaskType.DYNAMIC, dynamic.DynamicHandler())
REGISTRY.register(TaskType.DO_WHILE, do_while.DoWhileHandler())
REGISTRY.register(TaskType.ROUTING_SLIP, routing_slip.RoutingSlipHandler())
REGISTRY.register(TaskType.WAIT, wait.WaitHandler())
REGISTRY.register(TaskType.HUMAN, wait.HumanHandler())
REGISTRY.register(TaskType.SUB_WORKFLOW, sub_workflow.SubWorkflowHandler())
REGISTRY.register(TaskType.START_WORKFLOW, sub_workflow.StartWorkflowHandler())
REGISTRY.register(TaskType.EVENT, event.EventHandler())
