"""Workflow and task definitions in Netflix Conductor's JSON shape.

Field names are Conductor's, so an exported Conductor definition registers unchanged. Unknown
fields are kept (Conductor SDKs send many we do not use) and written back as they came.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from podium.dsl.bounds import INT4_MAX, MAX_DURATION_S, Name
from podium.dsl.services import OnCircuitOpen

__all__ = [
    "COMPENSATION_TYPES",
    "CacheConfig",
    "Compensation",
    "RetryLogic",
    "SubWorkflowParams",
    "TaskDef",
    "TaskTimeoutPolicy",
    "TaskType",
    "WorkflowDef",
    "WorkflowTask",
    "WorkflowTimeoutPolicy",
]


class TaskType(StrEnum):
    """The task types Podium runs."""

    SIMPLE = "SIMPLE"
    HTTP = "HTTP"
    SWITCH = "SWITCH"
    FORK_JOIN = "FORK_JOIN"
    JOIN = "JOIN"
    SUB_WORKFLOW = "SUB_WORKFLOW"
    WAIT = "WAIT"
    TERMINATE = "TERMINATE"
    SET_VARIABLE = "SET_VARIABLE"
    DO_WHILE = "DO_WHILE"
    FORK_JOIN_DYNAMIC = "FORK_JOIN_DYNAMIC"
    DYNAMIC = "DYNAMIC"
    HUMAN = "HUMAN"
    INLINE = "INLINE"
    JSON_JQ_TRANSFORM = "JSON_JQ_TRANSFORM"
    START_WORKFLOW = "START_WORKFLOW"
    NOOP = "NOOP"
    DECISION = "DECISION"
    ROUTING_SLIP = "ROUTING_SLIP"
    EVENT = "EVENT"
    LAMBDA = "LAMBDA"
    EXCLUSIVE_JOIN = "EXCLUSIVE_JOIN"


class RetryLogic(StrEnum):
    FIXED = "FIXED"
    EXPONENTIAL_BACKOFF = "EXPONENTIAL_BACKOFF"
    LINEAR_BACKOFF = "LINEAR_BACKOFF"


class TaskTimeoutPolicy(StrEnum):
    RETRY = "RETRY"
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


class WorkflowTimeoutPolicy(StrEnum):
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


class _ConductorModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The definition as Conductor JSON, without unset optional fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class TaskDef(_ConductorModel):
    """How a task type is retried and timed out; shared by every workflow that uses it.

    Defaults are Conductor's, so a definition moved from Conductor behaves the same.
    """

    name: Name = Field(min_length=1, max_length=255)
    description: str | None = None
    # Conductor sets no upper bound; above 1000 registration warns (see dsl/lint.py).
    retryCount: int = Field(default=3, ge=0, le=INT4_MAX)
    retryLogic: RetryLogic = RetryLogic.FIXED
    # Durations are held to MAX_DURATION_S and counts to 32 bits (see dsl/bounds.py).
    retryDelaySeconds: int = Field(default=60, ge=0, le=MAX_DURATION_S)
    backoffScaleFactor: int = Field(default=1, ge=1, le=INT4_MAX)
    timeoutSeconds: int = Field(default=0, ge=0, le=MAX_DURATION_S)
    responseTimeoutSeconds: int = Field(default=3600, ge=1, le=MAX_DURATION_S)
    timeoutPolicy: TaskTimeoutPolicy = TaskTimeoutPolicy.TIME_OUT_WF
    pollTimeoutSeconds: int | None = Field(default=None, ge=0, le=MAX_DURATION_S)
    ownerEmail: str | None = None
    inputKeys: list[str] | None = None
    outputKeys: list[str] | None = None
    concurrentExecLimit: int | None = Field(default=None, le=INT4_MAX)
    rateLimitPerFrequency: int | None = Field(default=None, ge=0, le=INT4_MAX)
    rateLimitFrequencyInSeconds: int | None = Field(default=None, ge=0, le=MAX_DURATION_S)
    # Podium: the service this task type belongs to (see the service registry), and what its
    # tasks do while that service's circuit breaker is open (default: the service's choice).
    service: Name | None = None
    onCircuitOpen: OnCircuitOpen | None = None
    inputTemplate: dict[str, Any] | None = None
    """Inputs every task of this type gets unless its step sets them (see ``under_template``)."""

    def under_template(self, params: dict[str, Any]) -> dict[str, Any]:
        """A step's ``inputParameters`` over this TaskDef's ``inputTemplate``, key by key, as
        Conductor merges them before resolving either (the step's keys win)."""
        if not self.inputTemplate:
            return params
        return {**self.inputTemplate, **params}


class CacheConfig(_ConductorModel):
    """Serve a task's output from a cache for ``ttlInSeconds``, keyed by ``key`` (an
    expression over the task's input, e.g. ``${input.sku}``)."""

    key: str = Field(min_length=1)
    ttlInSeconds: int = Field(ge=1, le=MAX_DURATION_S)


class SubWorkflowParams(_ConductorModel):
    name: Name | None = Field(default=None, min_length=1)
    version: int | None = Field(default=None, le=INT4_MAX)
    taskToDomain: dict[str, str] | None = None
    """The child's task domains; without it the child has its parent's (engine/domains)."""
    priority: int | str | None = None
    """0-99, or a ``${...}`` expression resolved when the step runs; None: the child has 0."""
    workflowDefinition: dict[str, Any] | None = None
    """A definition the child runs instead of a registered one (an inline sub-workflow)."""

    @model_validator(mode="after")
    def _named_or_inline(self) -> SubWorkflowParams:
        if self.name is None and self.workflowDefinition is None:
            raise ValueError("subWorkflowParam needs a name or a workflowDefinition")
        return self

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str) and "${" not in value:
            raise ValueError(f"must be a number from 0 to 99 or an expression, not {value!r}")
        if isinstance(value, int) and not 0 <= value <= 99:
            raise ValueError(f"must be a number from 0 to 99, not {value}")
        return value

    def child_name(self, step_name: str) -> str:
        """The name the child run has. Conductor names it after the inline definition, whose
        name it may lack (the run then has none); Podium's runs need one, so it falls back
        to ``name`` here, then to the step's own name."""
        inline = self.workflowDefinition
        if inline is not None and isinstance(inline.get("name"), str) and inline["name"]:
            return str(inline["name"])
        return self.name or step_name

    def inline_definition(self, step_name: str) -> dict[str, Any] | None:
        """The inline definition as the child runs it, named (``child_name``); None if none."""
        if self.workflowDefinition is None:
            return None
        return {**self.workflowDefinition, "name": self.child_name(step_name)}


COMPENSATION_TYPES = frozenset({TaskType.SIMPLE, TaskType.HTTP, TaskType.SUB_WORKFLOW})
"""What a compensation may be: a worker's task, an HTTP call or a sub-workflow."""


class Compensation(_ConductorModel):
    """What undoes a step once it has completed, should the run fail after it.

    ``inputParameters`` resolve against the run as it stands when the compensation starts;
    ``${compensated.input...}`` and ``${compensated.output...}`` read the very attempt (and
    loop iteration) being undone.
    """

    name: Name = Field(min_length=1)
    type: Name = "SIMPLE"
    inputParameters: dict[str, Any] = Field(default_factory=dict)
    subWorkflowParam: SubWorkflowParams | None = None
    optional: bool = False
    service: Name | None = None
    # Filled at start, as for steps: the compensation's TaskDef (its retry policy).
    taskDefinition: TaskDef | None = None


class WorkflowTask(_ConductorModel):
    """One step of a workflow definition."""

    name: Name = Field(min_length=1)
    taskReferenceName: Name = Field(min_length=1)
    type: Name = "SIMPLE"
    description: str | None = None
    inputParameters: dict[str, Any] = Field(default_factory=dict)
    optional: bool = False
    startDelay: int = Field(default=0, ge=0, le=MAX_DURATION_S)
    # SWITCH / DECISION
    evaluatorType: str | None = None
    expression: str | None = None
    caseValueParam: str | None = None
    caseExpression: str | None = None
    decisionCases: dict[str, list[WorkflowTask]] = Field(default_factory=dict)
    defaultCase: list[WorkflowTask] = Field(default_factory=list)
    # FORK_JOIN / JOIN
    forkTasks: list[list[WorkflowTask]] = Field(default_factory=list)
    joinOn: list[str] = Field(default_factory=list)
    # EXCLUSIVE_JOIN: what it joins when none of joinOn ran (the switch's default case)
    defaultExclusiveJoinTask: list[str] | None = None
    # FORK_JOIN_DYNAMIC / DYNAMIC: names of input parameters holding what to run
    dynamicForkTasksParam: str | None = None
    dynamicForkTasksInputParamName: str | None = None
    dynamicTaskNameParam: str | None = None
    # DO_WHILE
    loopCondition: str | None = None
    loopOver: list[WorkflowTask] = Field(default_factory=list)
    # SUB_WORKFLOW
    subWorkflowParam: SubWorkflowParams | None = None
    # EVENT: where it publishes (see dsl/sinks.py); asyncComplete leaves it IN_PROGRESS
    sink: Name | None = None
    asyncComplete: bool = False
    # Podium: the service this step calls (overrides its TaskDef's; for HTTP tasks), what it
    # does while that service's breaker is open, and result caching (Conductor's cacheConfig).
    service: Name | None = None
    onCircuitOpen: OnCircuitOpen | None = None
    cacheConfig: CacheConfig | None = None
    # Podium: how to undo this step when the run fails after it completed (see docs/sagas.md).
    compensation: Compensation | None = None
    # Filled at start: the TaskDef in force for this run, so later edits do not change it.
    taskDefinition: TaskDef | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_embedded_task_def(cls, data: Any) -> Any:
        """Conductor registers an embedded ``taskDefinition`` without a name: it is the task's
        own definition, so it takes the task's name (registration warns, see dsl/lint.py)."""
        if isinstance(data, dict):
            embedded = data.get("taskDefinition")
            if isinstance(embedded, dict) and "name" not in embedded and "name" in data:
                return {**data, "taskDefinition": {**embedded, "name": data["name"]}}
        return data


class WorkflowDef(_ConductorModel):
    """A versioned workflow definition."""

    name: Name = Field(min_length=1, max_length=255)
    version: int = Field(default=1, ge=1, le=INT4_MAX)
    description: str | None = None
    tasks: list[WorkflowTask] = Field(min_length=1)
    inputParameters: list[str] = Field(default_factory=list)
    outputParameters: dict[str, Any] = Field(default_factory=dict)
    schemaVersion: int = Field(default=2, le=INT4_MAX)
    ownerEmail: str | None = None
    timeoutSeconds: int = Field(default=0, ge=0, le=MAX_DURATION_S)
    timeoutPolicy: WorkflowTimeoutPolicy = WorkflowTimeoutPolicy.ALERT_ONLY
    failureWorkflow: Name | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    restartable: bool = True
    # Podium: whether a failed run compensates its completed steps; unset means "when any
    # step declares a compensation or the workflow has a ROUTING_SLIP".
    compensateOnFailure: bool | None = None
