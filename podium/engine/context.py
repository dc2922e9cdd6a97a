"""What expressions in a run can read, and how a SWITCH value becomes a case name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from podium.engine.state import RunState, TaskState

__all__ = ["SECRET_PREFIX", "RunContext", "case_label", "expression_context"]

SECRET_PREFIX = "workflow.secrets."


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


def _task_entry(task: TaskState) -> dict[str, Any]:
    return {
        "input": task.input,
        "output": task.output,
        "status": str(task.status),
        "taskId": task.task_id,
        "retryCount": task.retry_count,
        "reasonForIncompletion": task.reason,
        "subWorkflowId": task.sub_workflow_id,
    }


def expression_context(state: RunState) -> dict[str, Any]:
    """``${workflow...}`` and ``${<ref>...}`` for the run as it stands (latest attempts win)."""
    context: dict[str, Any] = {"workflow": _workflow_entry(state)}
    for task in state.tasks:  # later attempts (and later loop iterations) overwrite earlier ones
        entry = context[task.ref] = _task_entry(task)
        if task.scope_iterations:  # as in Conductor, the plain name reads the latest iteration
            context[task.def_ref] = entry
    return context


class RunContext(Mapping[str, Any]):
    """``expression_context`` as a live view of ``state``: each look-up reads the task as it
    is now, and the index of names is extended as tasks are appended instead of rebuilt, so
    one decision that schedules many steps does not walk every task for each of them. A
    task list replaced or shortened (keepLastN, a rerun) is indexed again from the start."""

    def __init__(self, state: RunState) -> None:
        self._state = state
        self._index: dict[str, TaskState] = {}
        self._tasks: list[TaskState] | None = None
        self._seen = 0

    def _names(self) -> dict[str, TaskState]:
        tasks = self._state.tasks
        if tasks is not self._tasks or len(tasks) < self._seen:
            self._index, self._tasks, self._seen = {}, tasks, 0
        index = self._index
        for position in range(self._seen, len(tasks)):
            task = tasks[position]
            index[task.ref] = task
            if task.scope_iterations:
                index[task.def_ref] = task
        self._seen = len(tasks)
        return index

    def latest(self, name: str) -> TaskState | None:
        """The task ``${name}`` reads: the latest with that reference name, or, for a task in
        a loop, that definition reference name."""
        return self._names().get(name)

    def __getitem__(self, key: str) -> Any:
        task = self._names().get(key)
        if task is not None:
            return _task_entry(task)
        if key == "workflow":
            return _workflow_entry(self._state)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        names = self._names()
        yield from names
        if "workflow" not in names:
            yield "workflow"

    def __len__(self) -> int:
        names = self._names()
        return len(names) + ("workflow" not in names)


def case_label(value: Any) -> str:
    """The case a SWITCH value selects, written as Conductor writes it (``true``, ``3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
