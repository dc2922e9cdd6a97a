"""Carrying out the engine's commands inside the unit of work that decided them.

Queue rows, timers, child and independent runs, events: all written in the same transaction
as the decision, so a run is never left half-advanced. Commands that touch another run (a
child started or terminated, a parent told) decide for that run too, recursively.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.engine.events import (
    AwaitEvent,
    CancelTimer,
    ChildFinished,
    Command,
    Dequeue,
    Enqueue,
    NotifyParent,
    PublishEvent,
    StartChild,
    StartTimer,
    StartWorkflow,
    TaskResult,
    TerminateChild,
    TerminateRun,
)
from podium.engine.state import RunState, TaskStatus
from podium.errors import DefinitionError, DefinitionNotFoundError, PodiumError
from podium.events import bus
from podium.server.event_ops import RunOpsTx
from podium.server.units import Outbox
from podium.store.base import StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator

__all__ = ["carry_out"]


def carry_out(
    orchestrator: Orchestrator,
    tx: StoreTx,
    outbox: Outbox,
    state: RunState,
    command: Command,
    now: int,
) -> None:
    match command:
        case Enqueue():
            tx.enqueue(
                command.task_id,
                state.run_id,
                command.queue,
                command.available_at,
                command.response_timeout_s * 1000,
                state.priority,
            )
            if command.available_at <= now:
                outbox.ready_queues.add(command.queue)
                outbox.ready_tasks.setdefault(command.queue, set()).add(command.task_id)
            else:
                outbox.poke_sweeper = True
        case Dequeue():
            tx.dequeue(command.task_id)
        case StartTimer():
            tx.put_timer(state.run_id, command.key, command.due_at)
            outbox.poke_sweeper = True
        case CancelTimer():
            tx.delete_timer(state.run_id, command.key)
        case StartChild():
            _start_child_tx(orchestrator, tx, outbox, command, now, state.trace_only)
        case StartWorkflow():
            # The started run shows no correlation id if it only inherited the trace id.
            inherited = state.trace_only and command.correlation_id == state.correlation_id
            _start_workflow_tx(orchestrator, tx, outbox, state.run_id, command, now, inherited)
        case TerminateChild():
            child = tx.get_run(command.child_run_id)
            if child is not None and not child[0].status.is_terminal:
                orchestrator.event_tx(
                    tx, outbox, command.child_run_id, TerminateRun(now, command.reason)
                )
        case NotifyParent():
            if tx.get_run(command.parent_run_id) is not None:
                event = ChildFinished(
                    now,
                    command.parent_task_id,
                    command.child_run_id,
                    command.child_status,
                    command.output,
                    command.reason,
                )
                orchestrator.event_tx(tx, outbox, command.parent_run_id, event)
        case PublishEvent() | AwaitEvent():
            bus.carry_out(tx, RunOpsTx(orchestrator, tx, outbox), state.run_id, command, now)


def _start_child_tx(
    orchestrator: Orchestrator,
    tx: StoreTx,
    outbox: Outbox,
    command: StartChild,
    now: int,
    trace_only: bool,
) -> None:
    """Start a sub-workflow (or failure workflow): it carries its parent's correlation id,
    and, like it, shows none when that is only a trace id."""
    if tx.get_run(command.child_run_id) is not None:
        return  # already started by an earlier attempt of the same decision
    try:
        frozen = None
        if command.definition is not None:
            # Checked at registration, unless a dynamic fork made it up from data: checked here.
            definition = WorkflowDef.model_validate(command.definition)
            validate_workflow(definition)
            frozen = orchestrator.definitions.freeze(tx, definition.to_json())
        orchestrator.start_run_tx(
            tx,
            outbox,
            command.child_run_id,
            command.name,
            command.version,
            command.input,
            command.correlation_id,
            command.parent_run_id,
            command.parent_task_id,
            now,
            depth=command.depth,
            trace_only=trace_only,
            task_to_domain=command.task_to_domain,
            priority=command.priority,
            frozen=frozen,
        )
    except (DefinitionNotFoundError, DefinitionError, ValueError) as exc:
        if command.parent_run_id is None or command.parent_task_id is None:
            return  # a missing failure workflow must not undo the failure it reports
        reason = exc.message if isinstance(exc, PodiumError) else f"inline definition: {exc}"
        event = ChildFinished(
            now, command.parent_task_id, command.child_run_id, "FAILED", {}, reason
        )
        orchestrator.event_tx(tx, outbox, command.parent_run_id, event)


def _start_workflow_tx(
    orchestrator: Orchestrator,
    tx: StoreTx,
    outbox: Outbox,
    run_id: str,
    command: StartWorkflow,
    now: int,
    trace_only: bool,
) -> None:
    """Start a START_WORKFLOW task's run, then finish the task with how that went."""
    event: TaskResult
    if tx.get_run(command.run_id) is None:
        try:
            orchestrator.start_run_tx(
                tx,
                outbox,
                command.run_id,
                command.name,
                command.version,
                command.input,
                command.correlation_id,
                None,
                None,
                now,
                depth=command.depth,
                trace_only=trace_only,
                task_to_domain=command.task_to_domain,
                priority=command.priority,
            )
        except PodiumError as exc:
            event = TaskResult(now, command.task_id, TaskStatus.FAILED, {}, exc.message)
            orchestrator.event_tx(tx, outbox, run_id, event)
            return
    output = {"workflowId": command.run_id}
    event = TaskResult(now, command.task_id, TaskStatus.COMPLETED, output)
    orchestrator.event_tx(tx, outbox, run_id, event)
