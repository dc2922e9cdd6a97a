"""Task types as handlers: the registry maps every type to one, and a new type is a handler
and one ``register`` line, run against a small fake decision (no Decider, no store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from podium.dsl.models import TaskDef, TaskType, WorkflowTask
from podium.dsl.validation import SUPPORTED
from podium.engine import RunState, RunStatus, TaskState, TaskStatus
from podium.engine.blueprint import Blueprint
from podium.engine.context import RunContext
from podium.engine.events import Command, StartTimer
from podium.engine.handlers.base import TaskHandler
from podium.engine.handlers.registry import REGISTRY, Registry
from podium.engine.limits import EngineLimits
from podium.engine.task_index import CHECKED_WHILE_RUNNING
from tests.unit.engine_helpers import blueprint, fresh_state, workflow


class FakeDecision:
    """Just enough of ``DecisionContext`` for a handler: finishing and failing are recorded."""

    def __init__(self, state: RunState, plan: Blueprint, now: int = 1_000) -> None:
        self.state = state
        self.blueprint = plan
        self.now = now
        self.commands: list[Command] = []
        self.task_defs: Mapping[str, TaskDef] = {}
        self.loop_iterations = self.loop_outputs_read = self.jq_queries = 0
        self.failed: list[tuple[str, TaskStatus, str | None]] = []
        self.ended: list[RunStatus] = []

    def finish(self, task: TaskState, status: TaskStatus) -> None:
        task = self.state.edit(task)
        task.status = status
        task.end_at = self.now

    def fail(self, task: TaskState, status: TaskStatus, reason: str | None) -> None:
        task = self.state.edit(task)
        task.status = status
        task.reason = reason
        self.failed.append((task.ref, status, reason))

    def end(self, status: RunStatus, reason: str | None, **_: Any) -> None:
        self.ended.append(status)

    def context(self) -> RunContext:
        return RunContext(self.state)


class GateHandler(TaskHandler):
    """A toy type: waits, IN_PROGRESS, until the task its ``after`` input names succeeded,
    then completes with that task's output and a timer of its own."""

    waits_on_others = True

    def start(
        self, d: Any, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        task = d.state.edit(task)
        task.status = TaskStatus.IN_PROGRESS
        task.start_at = d.now

    def check(self, d: Any, task: TaskState) -> bool:
        awaited = d.state.latest(str(task.input["after"]))
        if awaited is None or not awaited.status.is_success:
            return False
        task = d.state.edit(task)
        task.output = {"seen": dict(awaited.output)}
        d.commands.append(StartTimer(f"gate:{task.task_id}", d.now))
        d.finish(task, TaskStatus.COMPLETED)
        return True


def _task(task_id: str, ref: str, type: str, seq: int, **extra: Any) -> TaskState:
    return TaskState(
        task_id=task_id,
        ref=ref,
        name=ref,
        type=type,
        status=TaskStatus.SCHEDULED,
        seq=seq,
        scheduled_at=0,
        **extra,
    )


def _decision(*tasks: TaskState, limits: EngineLimits | None = None) -> FakeDecision:
    state = fresh_state()
    for task in tasks:
        state.add_task(task)
    plan = blueprint(workflow([{"name": "a", "taskReferenceName": "a", "type": "SIMPLE"}]))
    if limits is not None:
        plan = Blueprint(plan.definition, limits)
    return FakeDecision(state, plan)


def test_a_new_type_is_a_handler_and_one_register_line() -> None:
    registry = Registry()
    registry.register("GATE", GateHandler())
    assert "GATE" in registry.types()
    assert "GATE" in registry.waiting
    assert "GATE" not in CHECKED_WHILE_RUNNING  # a registry of its own leaves the engine's be

    gate = _task("g1", "gate", "GATE", 0, input={"after": "charge"})
    d = _decision(gate)
    step = WorkflowTask(name="gate", taskReferenceName="gate", type="GATE")
    registry.start(d, gate, step, None)
    gate = d.state.task("g1")
    assert gate is not None and gate.status == TaskStatus.IN_PROGRESS
    assert gate.start_at == 1_000

    assert registry.check(d, gate) is False  # nothing to wait for yet
    charge = _task("c1", "charge", "SIMPLE", 1, output={"amount": 5})
    d.state.add_task(charge)
    charge = d.state.edit(charge)
    charge.status = TaskStatus.COMPLETED
    assert registry.check(d, gate) is True
    done = d.state.task("g1")
    assert done is not None and done.status == TaskStatus.COMPLETED
    assert done.output == {"seen": {"amount": 5}}
    assert d.commands == [StartTimer("gate:g1", 1_000)]


def test_a_type_that_does_not_wait_is_never_checked() -> None:
    registry = Registry()

    class Once(TaskHandler):
        def start(self, d: Any, task: TaskState, step: WorkflowTask, retry_of: Any) -> None:
            d.finish(task, TaskStatus.COMPLETED)

        def check(self, d: Any, task: TaskState) -> bool:
            raise AssertionError("checked")

    registry.register("ONCE", Once())
    task = _task("o1", "once", "ONCE", 0)
    d = _decision(task)
    registry.start(d, task, WorkflowTask(name="once", taskReferenceName="once", type="ONCE"), None)
    assert d.state.task("o1").status == TaskStatus.COMPLETED  # type: ignore[union-attr]
    assert registry.check(d, task) is False
    assert "ONCE" not in registry.waiting


def test_a_type_has_one_handler() -> None:
    registry = Registry()
    registry.register("GATE", GateHandler())
    with pytest.raises(ValueError, match="GATE"):
        registry.register("GATE", GateHandler())


def test_a_type_with_no_handler_fails_its_task() -> None:
    task = _task("x1", "odd", "RETIRED_TYPE", 0)
    d = _decision(task)
    REGISTRY.start(d, task, WorkflowTask(name="odd", taskReferenceName="odd", type="X"), None)
    assert d.failed == [("odd", TaskStatus.FAILED_WITH_TERMINAL_ERROR, "unsupported task type X")]


def test_the_run_limits_refuse_a_task_before_its_handler_starts_it() -> None:
    registry = Registry()
    registry.register("GATE", GateHandler())
    tasks = [_task(f"t{i}", f"t{i}", "GATE", i) for i in range(3)]
    d = _decision(*tasks, limits=EngineLimits(max_tasks_per_run=2))
    step = WorkflowTask(name="t2", taskReferenceName="t2", type="GATE")
    registry.start(d, tasks[2], step, None)
    assert d.ended == [RunStatus.FAILED]
    refused = d.state.task("t2")
    assert refused is not None and refused.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR


def test_every_task_type_the_dsl_accepts_has_a_handler() -> None:
    assert REGISTRY.types() == frozenset(TaskType) == SUPPORTED
    assert (
        CHECKED_WHILE_RUNNING
        == REGISTRY.waiting
        == {
            TaskType.JOIN,
            TaskType.DO_WHILE,
            TaskType.ROUTING_SLIP,
            TaskType.EXCLUSIVE_JOIN,
        }
    )
    assert REGISTRY.worker_defaults == {TaskType.SIMPLE, TaskType.DYNAMIC}
    assert REGISTRY.uses_secrets == {TaskType.HTTP}
    assert REGISTRY.selecting == {TaskType.SWITCH, TaskType.DECISION}
    assert REGISTRY.own_successors == {TaskType.FORK_JOIN_DYNAMIC}
    assert REGISTRY.own_timers == {TaskType.WAIT}
    made = {t for t in REGISTRY.types() if REGISTRY.handler(t).input_made_at_run_time}
    assert made == {TaskType.JOIN}
    slips = {t for t in REGISTRY.types() if REGISTRY.handler(t).brings_compensations}
    assert slips == {TaskType.ROUTING_SLIP}
    outside = {t for t in REGISTRY.types() if REGISTRY.handler(t).outside_effects}
    assert outside == {
        TaskType.SIMPLE,
        TaskType.HTTP,
        TaskType.SUB_WORKFLOW,
        TaskType.START_WORKFLOW,
        TaskType.HUMAN,
    }
