"""Holding tasks to their contracts at run time, inside the orchestrator's units of work.

A task's resolved input is checked when a worker claims it and its output when the worker
reports it complete. Both run inside a store transaction that may be run again (PostgreSQL
retries a unit after a deadlock), so they read only through ``tx`` and otherwise compute; the
one thing kept between units is a cache of compiled schemas, safe because a stored contract
version never changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from podium.contracts import registry
from podium.contracts.attribution import input_producer, output_producer
from podium.contracts.binding import Binding, Mode, SchemaRef, task_binding, workflow_binding
from podium.contracts.model import Contract, parse_contract
from podium.contracts.validator import Violation, compile_schema, violations
from podium.dsl.models import WorkflowDef, WorkflowTask
from podium.engine.blueprint import Blueprint
from podium.engine.state import RunState, TaskState, TaskStatus
from podium.store.base import StoreTx

__all__ = ["ContractRuntime", "Verdict"]

log = logging.getLogger("podium.contracts")
_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Verdict:
    """A payload that broke its contract, and whether that fails the task."""

    enforced: bool
    message: str

    def apply(
        self,
        status: TaskStatus,
        reason: str | None,
        logs: tuple[dict[str, Any], ...],
        now: int,
    ) -> tuple[TaskStatus, str | None, tuple[dict[str, Any], ...]]:
        """A worker's result as it stands after this verdict: failed for good if enforced,
        otherwise as reported with the violation added to the task's log."""
        if self.enforced:
            return TaskStatus.FAILED_WITH_TERMINAL_ERROR, self.message, logs
        return status, reason, (*logs, {"log": f"warning: {self.message}", "createdTime": now})


class ContractRuntime:
    """Checks task inputs and outputs; one per orchestrator."""

    def __init__(self) -> None:
        self._contracts: dict[tuple[str, str, str], Contract] = {}
        self._validators: dict[tuple[str, str, str, str], Draft202012Validator] = {}

    def _contract(self, tx: StoreTx, kind: str, ref: SchemaRef) -> Contract | None:
        """The version ``ref`` selects now; only the version list is read once it is cached."""
        chosen = ref.pick(registry.versions(tx, kind, ref.name))
        if chosen is None:
            return None
        key = (kind, ref.name, chosen)
        contract = self._contracts.get(key)
        if contract is None:
            body = tx.get_contract(kind, ref.name, chosen)
            if body is None:
                return None
            if len(self._contracts) > 10_000:
                self._contracts.clear()
            contract = self._contracts[key] = parse_contract(body)
        return contract

    def check_input(
        self, tx: StoreTx, blueprint: Blueprint, state: RunState, task: TaskState
    ) -> Verdict | None:
        """A verdict when the input a worker is about to receive breaks its contract."""
        step, binding = self._binding(blueprint, task)
        if binding is None or binding.input is None or binding.mode == Mode.OFF:
            return None
        found = self._check(tx, "task", binding, "input", task.input)
        if found is None:
            return None
        contract, problems = found
        producer = input_producer(blueprint, state, step, problems[0].path)
        return self._verdict(binding, contract, "input", task, problems, producer)

    def check_output(
        self,
        tx: StoreTx,
        blueprint: Blueprint,
        state: RunState,
        task_id: str,
        output: dict[str, Any],
        worker_id: str | None,
    ) -> Verdict | None:
        """A verdict when a worker's successful output breaks its contract."""
        task = state.task(task_id)
        if task is None or not task.status.is_active:
            return None  # the engine answers for unknown or finished tasks
        step, binding = self._binding(blueprint, task)
        if binding is None or binding.output is None or binding.mode == Mode.OFF:
            return None
        found = self._check(tx, "task", binding, "output", output)
        if found is None:
            return None
        contract, problems = found
        producer = output_producer(step, binding, contract, worker_id or task.worker_id)
        return self._verdict(binding, contract, "output", task, problems, producer)

    def check_workflow_input(
        self, tx: StoreTx, definition: WorkflowDef, payload: dict[str, Any]
    ) -> tuple[Verdict, str] | None:
        """A verdict, and the offending field's path, when a run's input breaks the contract
        its workflow names."""
        binding = workflow_binding(definition)
        if binding is None or binding.input is None or binding.mode == Mode.OFF:
            return None
        found = self._check(tx, "workflow", binding, "input", payload)
        if found is None:
            return None
        contract, problems = found
        subject = f"workflow contract '{contract.name}' v{contract.version}"
        message = (
            f"contract violation: the input of workflow '{definition.name}' "
            f"v{definition.version} breaks {subject} at {problems[0]}; produced by the caller"
        ) + _more(problems)
        enforced = binding.mode == Mode.ENFORCE
        if not enforced:
            log.warning("%s [mode warn]", message)
        return Verdict(enforced, message), problems[0].path

    @staticmethod
    def _binding(blueprint: Blueprint, task: TaskState) -> tuple[WorkflowTask, Binding | None]:
        location = blueprint.locations.get(task.ref)
        if location is None:
            return WorkflowTask(name=task.name, taskReferenceName=task.ref), None
        step = location.task
        return step, task_binding(step.taskDefinition)

    def _check(
        self, tx: StoreTx, kind: str, binding: Binding, part: str, payload: Any
    ) -> tuple[Contract, list[Violation]] | None:
        ref = binding.ref(part)
        assert ref is not None
        contract = self._contract(tx, kind, ref)
        if contract is None:
            return None  # a name nobody registered is kept but not enforced (warned about)
        schema = contract.schema(part)
        if schema is None:
            return None  # the contract says nothing about this side
        key = (contract.kind, contract.name, str(contract.version), part)
        validator = self._validators.get(key)
        if validator is None:
            if len(self._validators) > 10_000:
                self._validators.clear()
            validator = self._validators[key] = compile_schema(schema)
        problems = violations(validator, payload)
        return (contract, problems) if problems else None

    @staticmethod
    def _verdict(
        binding: Binding,
        contract: Contract,
        part: str,
        task: TaskState,
        problems: list[Violation],
        producer: str,
    ) -> Verdict:
        subject = f"task contract '{contract.name}' v{contract.version}"
        first = problems[0]
        message = (
            f"contract violation: the {part} of task '{task.ref}' ({task.name}) breaks {subject} "
            f"at {first.path}: {first.message}; produced by {producer}"
        )
        message += _more(problems)
        enforced = binding.mode == Mode.ENFORCE
        if not enforced:
            log.warning("%s [mode warn, run %s]", message, task.task_id)
        return Verdict(enforced, message)


def _more(problems: list[Violation]) -> str:
    """The violations after the first, up to a few, and how many more there are."""
    text = ""
    more = problems[1:_SHOWN]
    if more:
        text += "; also " + "; ".join(str(v) for v in more)
    if len(problems) > _SHOWN:
        text += f" (and {len(problems) - _SHOWN} more)"
    return text
