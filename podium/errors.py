"""Podium's errors, one root and one HTTP status each.

PodiumError
├── ValidationError            400  bad input: names the field
│   └── DefinitionError        400  a workflow/task definition that cannot run
│       └── DefinitionWarningsError  400  one that draws warnings, refused under strict
├── ForbiddenError             403  the caller's key may not do this (a task type, a grant)
├── NotFoundError              404
│   ├── WorkflowNotFoundError
│   ├── DefinitionNotFoundError
│   └── TaskNotFoundError
├── ConflictError              409  the request is valid but the state forbids it
│   ├── TaskAlreadyFinishedError
│   └── LeaseLostError
├── PayloadTooLargeError       413
└── StoreError                 503  the store failed; nothing was changed
    └── StoreUnavailableError       no primary is reachable now; answered at once

Every error carries the ``service`` it comes from ("server", "store.sqlite", "worker", "cli"
or the name of an orchestrated service) and a stable ``code``, so that whoever reads it knows
whom to call.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DefinitionError",
    "DefinitionNotFoundError",
    "DefinitionWarningsError",
    "ForbiddenError",
    "LeaseLostError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PodiumError",
    "StoreError",
    "StoreUnavailableError",
    "TaskAlreadyFinishedError",
    "TaskNotFoundError",
    "ValidationError",
    "WorkflowNotFoundError",
]


class PodiumError(Exception):
    """Podium could not do what was asked."""

    status_code = 500
    code = "E_PODIUM"
    retryable = False
    """Whether the same request may succeed if sent again unchanged (the answers' field)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        service: str = "podium",
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.service = service
        self.field = field
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"podium[{self.service}] {self.code}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "status": self.status_code,
            "code": self.code,
            "service": self.service,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.field is not None:
            body["field"] = self.field
        return body


class ValidationError(PodiumError):
    """The request is not valid."""

    status_code = 400
    code = "E_INVALID"


class DefinitionError(ValidationError):
    """The definition is not valid."""

    code = "E_DEFINITION"


class DefinitionWarningsError(DefinitionError):
    """The definition draws warnings, and strict registration refuses them."""

    code = "E_DEFINITION_WARNINGS"


class ForbiddenError(PodiumError):
    """The caller's key may not do this."""

    status_code = 403
    code = "E_FORBIDDEN"


class NotFoundError(PodiumError):
    """Not found."""

    status_code = 404
    code = "E_NOT_FOUND"


class WorkflowNotFoundError(NotFoundError):
    """No workflow run has that id."""

    code = "E_WORKFLOW_NOT_FOUND"


class DefinitionNotFoundError(NotFoundError):
    """No definition has that name and version."""

    code = "E_DEFINITION_NOT_FOUND"


class TaskNotFoundError(NotFoundError):
    """No task has that id."""

    code = "E_TASK_NOT_FOUND"


class ConflictError(PodiumError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "E_CONFLICT"


class TaskAlreadyFinishedError(ConflictError):
    """The task has already finished; its result cannot change."""

    code = "E_TASK_FINISHED"


class LeaseLostError(ConflictError):
    """The worker's lease on the task expired and the task was handed to another worker."""

    code = "E_LEASE_LOST"


class PayloadTooLargeError(PodiumError):
    """The request body is larger than the configured limit."""

    status_code = 413
    code = "E_PAYLOAD_TOO_LARGE"


class StoreError(PodiumError):
    """The store could not complete the operation; nothing was changed."""

    status_code = 503
    code = "E_STORE"
    retryable = True
    retry_after_s = 1
    """What the answer's ``Retry-After`` says: the store is usually back within seconds."""


class StoreUnavailableError(StoreError):
    """The database is unreachable (down, or failing over); try again in a moment."""

    code = "E_STORE_UNAVAILABLE"
