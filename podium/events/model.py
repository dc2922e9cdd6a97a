"""What the bus's API accepts: published events, event handlers (Conductor's shape) and pull
subscriptions. Unknown fields are refused, so a misspelt one is named instead of ignored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from podium.dsl.bounds import INT4_MAX, INT4_MIN, INT8_MAX, Name

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "EventHandler",
    "HandlerAction",
    "PublishRequest",
    "SubscriptionRequest",
    "handler_topic",
]

DEFAULT_MAX_ATTEMPTS = 5
_NAME = r"^[A-Za-z0-9_.:\-*>]+$"


def handler_topic(event: str) -> str:
    """The bus topic a handler's ``event`` names: Conductor's ``conductor:`` prefix is the bus."""
    return event.removeprefix("conductor:")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PublishRequest(_Strict):
    """The envelope of an event; only ``payload`` is needed, the rest has defaults."""

    id: Name | None = Field(default=None, min_length=1, max_length=200)
    type: Name | None = Field(default=None, min_length=1, max_length=200)
    source: Name | None = Field(default=None, max_length=200)
    correlationId: Name | None = Field(default=None, max_length=200)
    causationId: Name | None = Field(default=None, max_length=200)
    time: int | None = Field(default=None, ge=0, le=INT8_MAX)
    payload: Any = Field(default_factory=dict)


class StartWorkflowAction(_Strict):
    name: Name = Field(min_length=1)
    version: int | None = Field(default=None, ge=INT4_MIN, le=INT4_MAX)
    input: dict[str, Any] = Field(default_factory=dict)
    correlationId: Name | None = None


class TaskAction(_Strict):
    """Finish a task: by ``taskId``, or by ``workflowId`` and ``taskRefName``."""

    workflowId: Name | None = None
    taskRefName: Name | None = None
    taskId: Name | None = None
    output: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None

    @model_validator(mode="after")
    def _names_a_task(self) -> TaskAction:
        if not self.taskId and not (self.workflowId and self.taskRefName):
            raise ValueError("name the task: taskId, or workflowId and taskRefName")
        return self


class PublishAction(_Strict):
    topic: str = Field(min_length=1, pattern=_NAME)
    type: str | None = None
    payload: Any = Field(default_factory=dict)


class HandlerAction(_Strict):
    """One of Conductor's actions, and Podium's ``publish``. Values may hold ``${...}``
    references to the event's payload, and to its envelope as ``${_event.correlationId}``."""

    action: Literal["start_workflow", "complete_task", "fail_task", "publish"]
    start_workflow: StartWorkflowAction | None = None
    complete_task: TaskAction | None = None
    fail_task: TaskAction | None = None
    publish: PublishAction | None = None
    expandInlineJSON: bool = False

    @model_validator(mode="after")
    def _has_its_body(self) -> HandlerAction:
        if getattr(self, self.action) is None:
            raise ValueError(f"an action '{self.action}' needs a '{self.action}' object")
        return self


class EventHandler(_Strict):
    """Conductor's event handler: on ``event``, if ``condition`` holds, run ``actions``."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    event: str = Field(min_length=1, max_length=200, pattern=_NAME)
    condition: str | None = None
    evaluatorType: str | None = None
    actions: list[HandlerAction] = Field(min_length=1)
    active: bool = True
    maxAttempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=1000)
    description: str | None = None

    @property
    def topic(self) -> str:
        return handler_topic(self.event)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class SubscriptionRequest(_Strict):
    """A pull subscription: a service takes ``topic``'s events from the bus itself."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    topic: str = Field(min_length=1, max_length=200, pattern=_NAME)
    maxAttempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=1000)
