"""Podium's errors, one root and one HTTP status each.

Every error Podium raises to a caller is a ``PodiumError``. The classes shared between modules
are here; a class private to one module stays there (its module named below), still under
this root. The number is the HTTP status the server answers with when the error reaches it.

PodiumError                        500  (also: the client's and the worker's own failures)
├── ValidationError                400  bad input: names the field
│   ├── DefinitionError            400  a workflow/task definition that cannot run
│   │   └── DefinitionWarningsError  400  one that draws warnings, refused under strict
│   ├── ExpressionError            400  a malformed ``${...}`` reference (dsl.expressions)
│   ├── SpecError                  400  a schedule's field (schedules.errors)
│   ├── BadItineraryError          400  a ROUTING_SLIP's steps (engine.handlers.routing_slip): fails
│   │                                   the task, never reaches a caller
│   └── _BadFork                   400  a dynamic fork's branches (engine.handlers.dynamic): likewise
├── UnauthenticatedError           401  no key, a wrong secret or a revoked key
│   └── TokenError                 401  an expired or forged bearer token (auth.tokens)
├── ForbiddenError                 403  the caller's key may not do this (a task type, a grant)
├── NotFoundError                  404
│   ├── WorkflowNotFoundError
│   ├── DefinitionNotFoundError
│   ├── TaskNotFoundError
│   ├── TraceNotFoundError         (events.trace)
│   ├── EventNotFoundError         (server.routes_events)
│   ├── HandlerNotFoundError       (server.routes_event_handlers)
│   ├── KeyNotFoundError           (server.routes_auth)
│   ├── ServiceNotFoundError       (server.routes_services)
│   ├── NotificationNotFoundError  (server.routes_notifications)
│   ├── ScheduleNotFoundError      (server.scheduler)
│   └── SubscriptionNotFoundError  (server.routes_subscriptions)
├── ConflictError                  409  the request is valid but the state forbids it
│   ├── TaskAlreadyFinishedError
│   └── LeaseLostError
├── PayloadTooLargeError           413
│   └── _BodyTooLargeError         413  a body past the limit (server.request_limits)
├── StoreError                     503  the store failed; nothing was changed
│   └── StoreUnavailableError      503  no primary is reachable now; answered at once
├── ScriptError                    400  a script failed, with ``code`` saying how
│                                       (scripting.errors)
├── EvaluationError                500  a definition's script failed (dsl.evaluators): fails
│                                       the task that ran it
├── ScriptEngineUnavailableError   500  QuickJS cannot be loaded: the server does not start
│                                       (dsl.evaluators)
├── HandlerFailedError             500  an event handler's action failed: the delivery is
│                                       retried, then dead-lettered
├── DeliveryError                  500  a notification channel did not take a message: it
│                                       is retried, then dead (notifications.senders)
├── MissingSecretError             500  an HTTP task names a secret nobody configured
│                                       (server.secrets): fails the task
├── TargetRefusedError             500  the HTTP task policy refuses a host; also an
│                                       ``OSError`` (server.http_targets): fails the task
├── _Unreachable                   500  an HTTP task's host refused or timed out
│                                       (server.http_calls): fails the task
├── PodiumClientError              the server's answer to ``podium.client`` (its status)
│   └── PodiumUnreachableError     no server answered (client)
├── TransportError                 503  the worker got no answer from the server
│                                       (worker.transport)
└── TaskFailedError                a worker's handler fails its task on purpose
                                   (worker.task)

Every error carries the ``service`` it comes from ("server", "store.sqlite", "worker", "cli"
or the name of an orchestrated service) and a stable ``code``, so that whoever reads it knows
whom to call.

Two signals are not errors and not ``PodiumError``s: ``server.result_batch._NotHeld`` and
``store.sqlite._RunNotWritten`` end a unit of work early inside their module, which catches
them; a handler for ``PodiumError`` in between must not take them for a failure.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DefinitionError",
    "DefinitionNotFoundError",
    "DefinitionWarningsError",
    "ForbiddenError",
    "HandlerFailedError",
    "LeaseLostError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PodiumError",
    "StoreError",
    "StoreUnavailableError",
    "TaskAlreadyFinishedError",
    "TaskNotFoundError",
    "UnauthenticatedError",
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


class UnauthenticatedError(PodiumError):
    """The request carries no key the server knows, or a wrong secret."""

    status_code = 401
    code = "E_UNAUTHENTICATED"


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


class HandlerFailedError(PodiumError):
    """An event handler's action could not be carried out; the delivery is retried, then
    dead-lettered, with the message as its ``lastError``. It never reaches a caller."""

    code = "E_HANDLER"

    def __init__(self, message: str) -> None:
        super().__init__(message, service="events")
