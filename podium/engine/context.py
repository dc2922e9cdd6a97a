"""What expressions in a run can read, and how a SWITCH value becomes a case name."""

from __future__ import annotations

from typing import Any

from podium.engine.state import RunState

__all__ = ["SECRET_PREFIX", "case_label", "expression_context"]

SECRET_PREFIX = "workflow.secrets."


class _SecretReferences(dict[str, Any]):
    """``${workflow.secrets.NAME}`` resolves to its own text: the value is read only by the
    HTTP executor at call time, so no secret is ever written to a run's history."""

    def get(self, key: str, default: Any = None) -> Any:
        return "${" + SECRET_PREFIX + key + "}"


_SECRETS = _SecretReferences()


def expression_context(state: RunState) -> dict[str, Any]:
    """``${workflow...}`` and ``${<ref>...}`` for the run as it stands (latest attempts win)."""
    context: dict[str, Any] = {
        "workflow": {
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
    }
    for task in state.tasks:  # later attempts (and later loop iterations) overwrite earlier ones
        entry = context[task.ref] = {
            "input": task.input,
            "output": task.output,
            "status": str(task.status),
            "taskId": task.task_id,
            "retryCount": task.retry_count,
            "reasonForIncompletion": task.reason,
            "subWorkflowId": task.sub_workflow_id,
        }
        if task.scope_iterations:  # as in Conductor, the plain name reads the latest iteration
            context[task.def_ref] = entry
    return context


def case_label(value: Any) -> str:
    """The case a SWITCH value selects, written as Conductor writes it (``true``, ``3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
