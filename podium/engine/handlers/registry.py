"""Task type -> handler, as Conductor's ``SystemTaskRegistry``: the decider asks the registry
what a type does, and a new type is one handler module and one line below.

The registry also keeps, for the decider's per-step path, what it would otherwise ask every
handler: which types wait on others (checked while IN_PROGRESS), which get a worker's default
TaskDef. ``REGISTRY`` shares its set of waiting types with the task index
(``task_index.CHECKED_WHILE_RUNNING``), so that the index and the decider agree on which
running tasks a decision may move.
"""

from __future__ import annotations

from collections.abc import Callable
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


class Registry:
    """Handlers by task type (a ``TaskType``, or any name a test gives)."""

    def __init__(self, waiting: set[str] | None = None) -> None:
        self._handlers: dict[str, TaskHandler] = {}
        self.waiting: set[str] = waiting if waiting is not None else set()
        """The types whose handler ``waits_on_others``."""
        self.worker_defaults: set[str] = set()
        """The types whose handler has ``worker_defaults``."""
        self.uses_secrets: set[str] = set()
        """The types whose handler ``uses_secrets``."""
        self._checks: dict[str, Callable[[DecisionContext, TaskState], bool]] = {}

    def register(self, task_type: str, handler: TaskHandler) -> None:
        """Make ``handler`` the one for ``task_type``; a type has one handler."""
        if task_type in self._handlers:
            raise ValueError(f"task type {task_type} already has a handler")
        self._handlers[task_type] = handler
        if handler.waits_on_others:
            self.waiting.add(task_type)
            self._checks[task_type] = handler.check
        if handler.worker_defaults:
            self.worker_defaults.add(task_type)
        if handler.uses_secrets:
            self.uses_secrets.add(task_type)

    def handler(self, task_type: str) -> TaskHandler:
        """The handler of ``task_type``; one that fails the task for a type with none."""
        return self._handlers.get(task_type, _UNSUPPORTED)

    def types(self) -> frozenset[str]:
        return frozenset(self._handlers)

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
        self._handlers.get(step.type, _UNSUPPORTED).start(d, task, step, retry_of)

    def check(self, d: DecisionContext, task: TaskState) -> bool:
        """Look again at ``task``, IN_PROGRESS, if its type waits on others; whether the run
        changed. A dictionary look-up for any other type: this is on every step's path."""
        check = self._checks.get(task.type)
        return check(d, task) if check is not None else False


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
