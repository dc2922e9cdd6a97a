"""Services: the "section leaders". Who owns each downstream service and whom to call.

A TaskDef (or an HTTP task) names its service with ``service``; every failure Podium reports
for that task then names the service, its owner and contact. A service may also configure its
circuit breaker, shared by every task that names it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["BreakerConfig", "OnCircuitOpen", "Service", "attribution"]


class OnCircuitOpen(StrEnum):
    """What a task does while its service's breaker is open."""

    WAIT = "wait"
    """Stay queued (not handed out, no HTTP call) until the breaker lets a call through."""
    FAIL = "fail"
    """Fail at once with FAILED_WITH_TERMINAL_ERROR, naming the open breaker."""
    SKIP = "skip"
    """Optional tasks only: end as COMPLETED_WITH_ERRORS so the run goes on without them."""


class BreakerConfig(BaseModel):
    """When a service's breaker opens, how long it stays open, and how it tries again.

    It opens after ``failureThreshold`` consecutive failures, or — with ``failureRatio`` — when
    that share of the last ``windowSize`` calls failed (once ``minimumCalls`` were seen). After
    ``openSeconds`` it lets ``halfOpenProbes`` calls through: a success closes it, a failure
    opens it again.
    """

    model_config = ConfigDict(extra="forbid")

    failureThreshold: int = Field(default=5, ge=1)
    failureRatio: float | None = Field(default=None, gt=0, le=1)
    windowSize: int = Field(default=20, ge=1, le=1000)
    minimumCalls: int = Field(default=10, ge=1)
    openSeconds: float = Field(default=30, gt=0)
    halfOpenProbes: int = Field(default=1, ge=1)


class Service(BaseModel):
    """A downstream service that tasks call, and the people behind it."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    owner: str = Field(min_length=1, description="The owning team.")
    contact: str | None = Field(default=None, description="Email or chat channel.")
    docsUrl: str | None = None
    onCall: str | None = Field(default=None, description="How to reach whoever is on call.")
    description: str | None = None
    circuitBreaker: BreakerConfig | None = None
    onCircuitOpen: OnCircuitOpen = OnCircuitOpen.WAIT
    retryWhenBreakerCloses: bool = Field(
        default=False,
        description="Retry the runs failed at once by the open breaker when it closes again.",
    )

    @model_validator(mode="after")
    def _ratio_needs_window(self) -> Service:
        breaker = self.circuitBreaker
        if breaker and breaker.failureRatio and breaker.minimumCalls > breaker.windowSize:
            raise ValueError("circuitBreaker.minimumCalls cannot exceed circuitBreaker.windowSize")
        return self

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def whom_to_call(self) -> str:
        """``owner Payments team, contact payments@example.com, on call #pay-oncall``."""
        parts = [f"owner {self.owner}"]
        if self.contact:
            parts.append(f"contact {self.contact}")
        if self.onCall:
            parts.append(f"on call {self.onCall}")
        if self.docsUrl:
            parts.append(f"docs {self.docsUrl}")
        return ", ".join(parts)


def attribution(service_name: str | None, service: Service | None) -> str:
    """Who is behind a failure, as one phrase for messages and logs."""
    if service_name is None:
        return "no service is named for this task (set `service` on its TaskDef)"
    if service is None:
        return f"service {service_name} (not in the service registry: no owner on record)"
    return f"service {service_name} ({service.whom_to_call()})"
