"""Request bodies of the REST API, for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from podium.dsl.bounds import INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN, MAX_DURATION_S, Name
from podium.engine.state import TaskStatus

__all__ = [
    "ErrorBody",
    "MillisQuery",
    "RerunWorkflowRequest",
    "SearchParams",
    "SkipTaskRequest",
    "StartWorkflowRequest",
    "TaskResultBody",
    "TaskResultItem",
    "TaskSearchParams",
    "VersionPath",
    "VersionQuery",
    "inline_schema",
]

# Numbers in paths and queries, held to the columns they are compared with (dsl/bounds.py).
VersionQuery = Annotated[int | None, Query(ge=INT4_MIN, le=INT4_MAX)]
VersionPath = Annotated[int, Path(ge=INT4_MIN, le=INT4_MAX)]
MillisQuery = Annotated[int | None, Query(ge=INT8_MIN, le=INT8_MAX)]


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

    taskId: Name = Field(min_length=1)
    workflowInstanceId: Name | None = None
    status: TaskStatus
    outputData: dict[str, Any] = Field(default_factory=dict)
    reasonForIncompletion: str | None = None
    workerId: Name | None = None
    callbackAfterSeconds: int = Field(default=0, ge=0, le=MAX_DURATION_S)
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

    name: Name = Field(min_length=1)
    version: int | None = Field(default=None, ge=INT4_MIN, le=INT4_MAX)
    correlationId: Name | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    idempotencyKey: Name | None = None
    priority: int | None = Field(default=None, ge=0, le=99)
    taskToDomain: dict[Name, str] | None = None
    workflowDef: dict[str, Any] | None = None
    """A definition to run without registering it (the SDK's ``ConductorWorkflow.execute``)."""


class SaveScheduleRequest(BaseModel):
    """Conductor's ``SaveScheduleRequest``: what a schedule starts. Its timing and Podium's
    policies are read from the same body by ``podium.schedules.parse_spec``."""

    model_config = ConfigDict(extra="ignore")

    name: Name = Field(min_length=1, pattern=r"^[^/]+$")
    startWorkflowRequest: StartWorkflowRequest
    paused: bool | None = None
    pausedReason: Name | None = None


class RerunWorkflowRequest(BaseModel):
    """Conductor's ``RerunWorkflowRequest``: rerun from a task, or from the start."""

    model_config = ConfigDict(extra="ignore")

    reRunFromWorkflowId: Name | None = None
    reRunFromTaskId: Name | None = None
    taskInput: dict[str, Any] | None = None
    workflowInput: dict[str, Any] | None = None
    correlationId: Name | None = None


class SkipTaskRequest(BaseModel):
    """Conductor's ``SkipTaskRequest``: the skipped task's input and output."""

    model_config = ConfigDict(extra="ignore")

    taskInput: dict[str, Any] | None = None
    taskOutput: dict[str, Any] | None = None


class SearchParams(BaseModel):
    """The query of ``/api/workflow/search``: Conductor's forms and Podium's plain filters."""

    start: int = Field(default=0, le=INT8_MAX)
    size: int = 100
    query: Name | None = None
    freeText: Name | None = None
    sort: Name | None = None
    name: Name | None = None
    status: Name | None = None
    correlationId: Name | None = None
    startedAfter: int | None = Field(default=None, ge=INT8_MIN, le=INT8_MAX)
    startedBefore: int | None = Field(default=None, ge=INT8_MIN, le=INT8_MAX)


class TaskSearchParams(BaseModel):
    """The query of ``/api/tasks/search`` and ``/api/workflow/search-by-tasks``, as Conductor's."""

    start: int = Field(default=0, le=INT8_MAX)
    size: int = 100
    sort: Name | None = None
    freeText: Name | None = None
    query: Name | None = None


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
