"""What a handler sees (``Task``) and what it can say back besides a plain return value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from podium.errors import PodiumError

__all__ = ["Task", "TaskFailedError", "TaskInProgress"]


def _int(value: object, default: int = 0) -> int:
    """``value`` as an int, ``default`` when the server sent null or garbage."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Task:
    """One polled task, as handed to a handler that asks for it with a ``Task`` annotation.

    ``idempotency_key`` is stable across retries of the same logical step
    (``"<workflowId>:<referenceTaskName>"``): pass it to the service you call so that a
    retried step does not, say, charge a card twice.
    """

    task_id: str
    workflow_id: str
    reference_name: str
    task_type: str
    input: Mapping[str, Any]
    retry_count: int = 0
    poll_count: int = 0
    correlation_id: str | None = None
    idempotency_key: str | None = None
    workflow_type: str | None = None
    traceparent: str | None = None
    """The W3C trace context of the task's span on the server, for tracing what it calls."""
    lease_token: str | None = None
    """The secret of the lease this task was handed out under (Podium only): the result
    carries it back, so that the server takes it only while this lease is in force."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The task object exactly as the server sent it (camelCase keys), for anything not above."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Task:
        """Build a ``Task`` from the server's camelCase Task object; tolerant of missing fields."""
        task_id = str(data.get("taskId") or "")
        workflow_id = str(data.get("workflowInstanceId") or "")
        reference_name = str(data.get("referenceTaskName") or "")
        raw_input = data.get("inputData")
        idempotency_key = _str(data.get("idempotencyKey"))
        if idempotency_key is None and workflow_id and reference_name:
            # Servers other than Podium do not send the key; derive it the way Podium does so
            # that handlers can rely on it being there.
            idempotency_key = f"{workflow_id}:{reference_name}"
        return cls(
            task_id=task_id,
            workflow_id=workflow_id,
            reference_name=reference_name,
            task_type=str(data.get("taskDefName") or data.get("taskType") or ""),
            input=dict(raw_input) if isinstance(raw_input, Mapping) else {},
            retry_count=_int(data.get("retryCount")),
            poll_count=_int(data.get("pollCount")),
            correlation_id=_str(data.get("correlationId")),
            idempotency_key=idempotency_key,
            workflow_type=_str(data.get("workflowType")),
            traceparent=_str(data.get("traceparent")),
            lease_token=_str(data.get("leaseToken")),
            raw=dict(data),
        )


class TaskFailedError(PodiumError):
    """Raised by a handler to fail its task on purpose, with ``message`` as the reason.

    A failure is retried according to the task definition unless ``non_retryable`` is true,
    in which case the task ends ``FAILED_WITH_TERMINAL_ERROR`` at once (for errors that no
    retry can fix: a declined card, an unknown customer). ``output`` goes to the task's
    ``outputData`` so that compensation steps can see what was done.
    """

    code = "E_TASK_FAILED"

    def __init__(
        self,
        message: str,
        *,
        non_retryable: bool = False,
        output: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, service="worker")
        self.message = message  # as given, even when empty
        self.non_retryable = non_retryable
        self.output: dict[str, Any] = dict(output or {})


@dataclass(frozen=True, slots=True)
class TaskInProgress:
    """Returned by a handler whose work is not finished yet.

    The task stays ``IN_PROGRESS`` (its lease is extended) and the server hands it to a worker
    again after ``callback_after_seconds``; ``output`` is saved as the task's output so far.
    """

    callback_after_seconds: int
    output: Mapping[str, Any] | None = None
