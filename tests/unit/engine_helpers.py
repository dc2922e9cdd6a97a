"""A small harness for driving the pure engine in unit tests.

``Run`` holds a ``RunState`` and its ``Blueprint``, feeds events to ``decide`` and keeps the
latest decision. Every call also checks that ``decide`` left its input state untouched, so
each engine test doubles as a no-mutation test.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from podium.dsl.models import WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.engine import Blueprint, RunState, RunStatus, TaskState, TaskStatus, decide
from podium.engine.events import (
    ChildFinished,
    Command,
    Decision,
    Enqueue,
    Event,
    RunStarted,
    TaskResult,
    TimerFired,
)

SECOND = 1000


def step(ref: str, type: str = "SIMPLE", name: str | None = None, **extra: Any) -> dict[str, Any]:
    """One WorkflowTask in Conductor JSON; ``name`` defaults to the reference name."""
    return {"name": name or ref, "taskReferenceName": ref, "type": type, **extra}


def task_def(name: str = "t", **extra: Any) -> dict[str, Any]:
    """A TaskDef in Conductor JSON, to embed as a step's ``taskDefinition``."""
    return {"name": name, **extra}


def simple(ref: str, name: str | None = None, retries: int = 0, **def_extra: Any) -> dict[str, Any]:
    """A SIMPLE step whose TaskDef has ``retries`` retries (default none) and, unless told, no delay."""
    fields: dict[str, Any] = {"retryCount": retries, "retryDelaySeconds": 0, **def_extra}
    definition = task_def(name or ref, **fields)
    return step(ref, name=name, taskDefinition=definition)


def workflow(tasks: list[dict[str, Any]], name: str = "wf", **extra: Any) -> dict[str, Any]:
    return {"name": name, "version": 1, "tasks": tasks, **extra}


def blueprint(definition: dict[str, Any], *, validate: bool = True) -> Blueprint:
    model = WorkflowDef.model_validate(definition)
    if validate:
        validate_workflow(model)
    return Blueprint(model)


def fresh_state(
    name: str = "wf", input: dict[str, Any] | None = None, run_id: str = "r1", **extra: Any
) -> RunState:
    return RunState(
        run_id=run_id,
        name=name,
        version=1,
        status=RunStatus.RUNNING,
        created_at=0,
        input=dict(input or {}),
        **extra,
    )


class Run:
    """One run driven event by event; ``commands`` are those of the latest decision."""

    def __init__(
        self,
        definition: dict[str, Any],
        input: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        **state_extra: Any,
    ) -> None:
        self.blueprint = blueprint(definition, validate=validate)
        self.state = fresh_state(definition["name"], input, **state_extra)
        self.commands: tuple[Command, ...] = ()
        self.history: list[Decision] = []

    # ---- driving ------------------------------------------------------------------------

    def send(self, event: Event) -> tuple[Command, ...]:
        before = copy.deepcopy(self.state.to_dict())
        decision = decide(self.state, event, self.blueprint)
        assert self.state.to_dict() == before, "decide changed the state it was given"
        assert decision.state is not self.state
        assert decision.state.updated_at == event.now
        self.history.append(decision)
        self.state = decision.state
        self.commands = decision.commands
        return decision.commands

    def start(self, now: int = 0) -> tuple[Command, ...]:
        return self.send(RunStarted(now))

    def result(
        self,
        ref: str,
        status: TaskStatus = TaskStatus.COMPLETED,
        output: dict[str, Any] | None = None,
        *,
        now: int,
        reason: str | None = None,
        **extra: Any,
    ) -> tuple[Command, ...]:
        task = self.latest(ref)
        event = TaskResult(now, task.task_id, status, dict(output or {}), reason, **extra)
        return self.send(event)

    def complete(
        self, ref: str, output: dict[str, Any] | None = None, *, now: int
    ) -> tuple[Command, ...]:
        return self.result(ref, TaskStatus.COMPLETED, output, now=now)

    def fail(
        self,
        ref: str,
        reason: str = "boom",
        *,
        now: int,
        status: TaskStatus = TaskStatus.FAILED,
    ) -> tuple[Command, ...]:
        return self.result(ref, status, None, now=now, reason=reason)

    def fire(self, key: str, *, now: int) -> tuple[Command, ...]:
        return self.send(TimerFired(now, key))

    def child_finished(
        self,
        ref: str,
        status: str,
        output: dict[str, Any] | None = None,
        *,
        now: int,
        reason: str | None = None,
    ) -> tuple[Command, ...]:
        task = self.latest(ref)
        assert task.sub_workflow_id is not None
        event = ChildFinished(now, task.task_id, task.sub_workflow_id, status, output or {}, reason)
        return self.send(event)

    # ---- reading ------------------------------------------------------------------------

    @property
    def status(self) -> str:
        # Typed ``str`` (a RunStatus is one) so that mypy does not narrow it between events.
        return self.state.status

    def latest(self, ref: str) -> TaskState:
        task = self.state.latest(ref)
        assert task is not None, f"no task {ref} in {[t.ref for t in self.state.tasks]}"
        return task

    def attempts(self, ref: str) -> list[TaskState]:
        return [task for task in self.state.tasks if task.ref == ref]

    def refs(self) -> list[str]:
        """Reference names of every attempt so far, in scheduling order."""
        return [task.ref for task in self.state.tasks]

    def statuses(self) -> dict[str, TaskStatus]:
        """The latest attempt's status per reference name."""
        return {task.ref: task.status for task in self.state.tasks}

    def active(self) -> list[str]:
        return [task.ref for task in self.state.active_tasks()]

    def tid(self, ref: str) -> str:
        return self.latest(ref).task_id

    def enqueued(self) -> list[Enqueue]:
        return [c for c in self.commands if isinstance(c, Enqueue)]

    def enqueued_refs(self) -> list[str]:
        by_id = {task.task_id: task.ref for task in self.state.tasks}
        return [by_id[c.task_id] for c in self.enqueued()]

    def of(self, kind: type) -> list[Any]:
        return [c for c in self.commands if isinstance(c, kind)]


def calls_to_decide(state: RunState, event: Event, plan: Any) -> tuple[int, RunState]:
    """How many Python functions one ``decide`` calls, and the state it returns: a count
    that does not depend on the machine's speed, for tests of per-step work."""
    calls = 0

    def count(frame: Any, what: str, arg: Any) -> None:
        nonlocal calls
        calls += what == "call"

    sys.setprofile(count)
    try:
        state = decide(state, event, plan).state
    finally:
        sys.setprofile(None)
    return calls, state
