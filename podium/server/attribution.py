"""Whom a failure belongs to: the service behind a task, its owner and how to reach them.

Resolved when a run is read, from the service registry as it stands, so a changed on-call
rota shows at once; the run keeps only the service's name (from its definition).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podium.dsl.models import TaskType
from podium.dsl.services import Service, attribution
from podium.engine.blueprint import Blueprint
from podium.engine.state import RunState, TaskState, TaskStatus
from podium.notifications.messages import error_code
from podium.resilience.policy import ResiliencePolicy
from podium.store.base import StoreTx

__all__ = ["FAILED_TASK_STATUSES", "Blame", "blame_run", "blame_tasks"]

_OUTSIDE_TYPES = frozenset({TaskType.SIMPLE, TaskType.HTTP, "DYNAMIC"})
FAILED_TASK_STATUSES = frozenset(
    {
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        TaskStatus.TIMED_OUT,
        TaskStatus.COMPLETED_WITH_ERRORS,
    }
)


@dataclass(frozen=True, slots=True)
class Blame:
    """The party behind one task: a registered service, a named but unknown one, no name at
    all, or Podium itself (a system task)."""

    service: str | None
    record: Service | None
    task_type: str
    task_id: str | None = None
    code: str | None = None
    """The failure's error code, when the worker gave one (``messages.error_code``)."""

    @property
    def runbook(self) -> str | None:
        return self.record.runbook_for(self.code) if self.record is not None else None

    @property
    def inside_podium(self) -> bool:
        return self.service is None and self.task_type not in _OUTSIDE_TYPES

    def phrase(self) -> str:
        if self.inside_podium:
            return f"inside Podium itself (its {self.task_type} task; no outside service involved)"
        phrase = attribution(self.service, self.record)
        runbook = self.runbook
        if runbook and self.record is not None and runbook != self.record.runbook:
            phrase = phrase[:-1] + f", runbook for {self.code} {runbook})"
        return phrase

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"service": self.service, "insidePodium": self.inside_podium}
        if self.record is not None:
            body.update(
                owner=self.record.owner,
                contact=self.record.contact,
                onCall=self.record.onCall,
                docsUrl=self.record.docsUrl,
                runbook=self.runbook,
            )
        if self.code is not None:
            body["errorCode"] = self.code
        return {key: value for key, value in body.items() if value is not None}


def blame_tasks(
    tx: StoreTx, policy: ResiliencePolicy, blueprint: Blueprint, state: RunState
) -> dict[str, Blame]:
    """Blame for every task that names a service or failed, by task id."""
    services = policy.services(tx)
    blames: dict[str, Blame] = {}
    for task in state.tasks:
        name = _service_name(blueprint, task)
        if name is None and task.status not in FAILED_TASK_STATUSES:
            continue
        record = services.get(name) if name else None
        blames[task.task_id] = Blame(
            name, record, str(task.type), task.task_id, _code(task) if record else None
        )
    return blames


def blame_run(
    tx: StoreTx, policy: ResiliencePolicy, blueprint: Blueprint, state: RunState
) -> Blame | None:
    """Blame for the task whose failure ended the run, if one did."""
    for task in reversed(state.tasks):
        if task.ref in state.failed_refs and task.status in FAILED_TASK_STATUSES:
            name = _service_name(blueprint, task)
            record = policy.services(tx).get(name) if name else None
            return Blame(name, record, str(task.type), task.task_id, error_code(task))
    return None


def _code(task: TaskState) -> str | None:
    return error_code(task) if task.status in FAILED_TASK_STATUSES else None


def _service_name(blueprint: Blueprint, task: TaskState) -> str | None:
    try:
        step = blueprint.step_of(task)
    except KeyError:  # a step the definition no longer has (a retried, amended run)
        return None
    return ResiliencePolicy.service_of(step)
