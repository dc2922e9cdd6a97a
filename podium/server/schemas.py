"""Request bodies of the REST API, for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from podium.engine.state import TaskStatus

__all__ = [
    "ErrorBody",
    "RerunWorkflowRequest",
    "SearchParams",
    "SkipTaskRequest",
    "StartWorkflowRequest",
    "TaskResultBody",
    "TaskResultItem",
    "inline_schema",
]


class ErrorBody(BaseModel):
    """Every refusal's body, whoever answers it (a route, request validation, the auth gate or
    the fast path): whose fault it is, a stable code, and the field at fault when there is one."""

    status: int
    code: str
    service: str
    message: str
    retryable: bool
    field: str | None = None


class TaskResultBody(BaseModel):
    """A worker's result, as Conductor's ``TaskResult``."""

    model_config = ConfigDict(extra="ignore")

    taskId: str = Field(min_length=1)
    workflowInstanceId: str | None = None
    status: TaskStatus
    outputData: dict[str, Any] = Field(default_factory=dict)
    reasonForIncompletion: str | None = None
    workerId: str | None = None
    callbackAfterSeconds: int = Field(default=0, ge=0)
    logs: list[dict[str, Any]] = Field(default_factory=list)
    extendLease: bool = False
    leaseToken: str | None = Field(default=None, min_length=1, max_length=100)
    """The token the task was handed out with (Podium's extension): proves the result comes
    from the lease in force. Conductor's SDKs do not send it; see ``server.fencing``."""


class TaskResultItem(TaskResultBody):
    """One result of ``update-batch``: a TaskResult and the ``traceparent`` that a single
    update would have sent as a header, since one request carries results of many traces."""

    traceparent: str | None = None


class StartWorkflowRequest(BaseModel):
    """Conductor's ``StartWorkflowRequest``."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    version: int | None = None
    correlationId: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    idempotencyKey: str | None = None
    priority: int | None = None
    workflowDef: dict[str, Any] | None = None
    """A definition to run without registering it (the SDK's ``ConductorWorkflow.execute``)."""


class RerunWorkflowRequest(BaseModel):
    """Conductor's ``RerunWorkflowRequest``: rerun from a task, or from the start."""

    model_config = ConfigDict(extra="ignore")

    reRunFromWorkflowId: str | None = None
    reRunFromTaskId: str | None = None
    taskInput: dict[str, Any] | None = None
    workflowInput: dict[str, Any] | None = None
    correlationId: str | None = None


class SkipTaskRequest(BaseModel):
    """Conductor's ``SkipTaskRequest``: the skipped task's input and output."""

    model_config = ConfigDict(extra="ignore")

    taskInput: dict[str, Any] | None = None
    taskOutput: dict[str, Any] | None = None


class SearchParams(BaseModel):
    """The query of ``/api/workflow/search``: Conductor's forms and Podium's plain filters."""

    start: int = 0
    size: int = 100
    query: str | None = None
    freeText: str | None = None
    sort: str | None = None
    name: str | None = None
    status: str | None = None
    correlationId: str | None = None
    startedAfter: int | None = None
    startedBefore: int | None = None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema with its ``$defs`` written out where they are used.

    Pydantic refers to them as ``#/$defs/...``, which in an OpenAPI document points at the
    document's root, not at the model's schema: clients and fuzzers cannot resolve it.
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result
