"""What expressions in a run can read, and how a SWITCH value becomes a case name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from podium.engine.state import RunState, TaskState

__all__ = [
    "SECRET_PREFIX",
    "TASK_ID_PARAMETER",
    "RunContext",
    "case_label",
    "expression_context",
    "task_context",
]

SECRET_PREFIX = "workflow.secrets."
# Conductor's system parameter for the id of the task whose input is being resolved.
TASK_ID_PARAMETER = "CPEWF_TASK_ID"


class _SecretReferences(dict[str, Any]):
    """``${workflow.secrets.NAME}`` resolves to its own text: the value is read only by the
    HTTP executor at call time, so no secret is ever written to a run's history."""

    def get(self, key: str, default: Any = None) -> Any:
        return "${" + SECRET_PREFIX + key + "}"


_SECRETS = _SecretReferences()


def _workflow_entry(state: RunState) -> dict[str, Any]:
    return {
        "input": state.input,
        "output": state.output,
        "variables": state.variables,
        "workflowId": state.run_id,
        "correlationId": state.shown_correlation_id,
        "workflowType": state.name,
        "version": state.version,
        "createTime": state.created_at,
        "parentWorkflowId": state.parent_run_id,
        "parentWorkflowTaskId": state.parent_task_id,
        "status": str(state.status),
        "reasonForIncompletion": state.reason,
        "secrets": _SECRETS,
    }


def _task_entry(task: TaskState, state: RunState) -> dict[str, Any]:
    # The fields Conductor's ParametersUtils puts in a task's map, named and valued as there:
    # times in epoch milliseconds, 0 while unset; the type of a SIMPLE task is its name.
    return {
        "input": task.input,
        "output": task.output,
        "taskType": task.name if task.type == "SIMPLE" else task.type,
        "status": str(task.status),
        "referenceTaskName": task.ref,
        "retryCount": task.retry_count,
        "correlationId": state.shown_correlation_id,
        "pollCount": task.poll_count,
        "taskDefName": task.name,
        "scheduledTime": task.scheduled_at,
        "startTime": task.start_at or 0,
        "endTime": task.end_at or 0,
        "workflowInstanceId": state.run_id,
        "taskId": task.task_id,
        "reasonForIncompletion": task.reason,
        "callbackAfterSeconds": task.callback_after_s,
        "workerId": task.worker_id,
        "iteration": task.iteration,
        "subWorkflowId": task.sub_workflow_id,
    }


def expression_context(state: RunState) -> dict[str, Any]:
    """``${workflow...}`` and ``${<ref>...}`` for the run as it stands (latest attempts win).

    A walk over every task, for the rare paths that need a dict they may add to (a saga's
    undo steps); a decision reads ``RunContext``, which looks names up in the state's index.
    """
    context: dict[str, Any] = {"workflow": _workflow_entry(state)}
    for task in state.tasks:  # later attempts (and later loop iterations) overwrite earlier ones
        entry = context[task.ref] = _task_entry(task, state)
        if task.scope_iterations:  # as in Conductor, the plain name reads the latest iteration
            context[task.def_ref] = entry
    return context


class RunContext(Mapping[str, Any]):
    """``expression_context`` as a live view of ``state``: each look-up reads the task as it
    is now, found through the state's own index of names, so that neither making the view
    nor a look-up walks the run's tasks."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def latest(self, name: str) -> TaskState | None:
        """The task ``${name}`` reads: the latest with that reference name, or, for a task in
        a loop, that definition reference name."""
        return self._state.latest_named(name)

    def __getitem__(self, key: str) -> Any:
        task = self._state.latest_named(key)
        if task is not None:
            return _task_entry(task, self._state)
        if key == "workflow":
            return _workflow_entry(self._state)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        names = self._state.names()
        yield from names
        if "workflow" not in names:
            yield "workflow"

    def __len__(self) -> int:
        names = self._state.names()
        return len(names) + ("workflow" not in names)


class _TaskContext(Mapping[str, Any]):
    """A run's context as one task's input sees it: ``${CPEWF_TASK_ID}`` is that task's id.
    Conductor reads the system parameter before any task reference of the same name."""

    def __init__(self, context: Mapping[str, Any], task_id: str) -> None:
        self._context = context
        self._task_id = task_id

    def __getitem__(self, key: str) -> Any:
        if key == TASK_ID_PARAMETER:
            return self._task_id
        return self._context[key]

    def __iter__(self) -> Iterator[str]:
        yield TASK_ID_PARAMETER
        yield from (key for key in self._context if key != TASK_ID_PARAMETER)

    def __len__(self) -> int:
        return len(self._context) + (TASK_ID_PARAMETER not in self._context)


def task_context(context: Mapping[str, Any], task_id: str) -> Mapping[str, Any]:
    """``context`` for resolving the input of the task ``task_id``."""
    return _TaskContext(context, task_id)


def case_label(value: Any) -> str:
    """The case a SWITCH value selects, written as Conductor writes it (``true``, ``3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
