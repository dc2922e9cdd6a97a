"""The engine's side of the event bus: EVENT tasks publish, WAIT tasks wait for an event.

Both only emit commands; the orchestrator carries them out in the decision's transaction, so
an event is published exactly when the step that publishes it is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.bounds import nul_problem
from podium.dsl.models import WorkflowTask
from podium.dsl.sinks import parse_sink
from podium.engine.events import AwaitEvent, PublishEvent
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus, derive_id

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["EventHandler", "await_event", "run_event"]


def run_event(d: DecisionContext, task: TaskState, step: WorkflowTask) -> None:
    """EVENT: publish the task's input as the payload to ``sink``."""
    task = d.state.edit(task)  # this decision's own to change
    state = d.state
    try:
        sink = parse_sink(step.sink or "", f"{state.name}:{task.def_ref}")
    except ValueError as exc:
        d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, str(exc))
        return
    # The id is derived, not drawn: a decision carried out again publishes the same event,
    # which the bus then recognises as a duplicate.
    event_id = derive_id(task.task_id, "event")
    event_type = task.input.get("eventType")
    kind = str(event_type) if event_type else sink.topic
    if _refused(d, task, "EVENT", "eventType", kind):
        return
    d.commands.append(
        PublishEvent(
            event_id=event_id,
            topic=sink.topic,
            type=kind,
            payload=dict(task.input),
            correlation_id=state.correlation_id,
            source=state.name,
            run_id=state.run_id,
            task_id=task.task_id,
            broker=sink.broker,
            destination=sink.destination,
        )
    )
    task.output = {
        "event_produced": step.sink,
        "eventId": event_id,
        "topic": sink.topic,
        "sink": step.sink,
        "workflowInstanceId": state.run_id,
        "workflowType": state.name,
        "correlationId": state.correlation_id,
    }
    task.start_at = d.now
    if step.asyncComplete:
        task.status = TaskStatus.IN_PROGRESS
    else:
        d.finish(task, TaskStatus.COMPLETED)


def await_event(d: DecisionContext, task: TaskState) -> None:
    """WAIT with an ``event`` input: done when a matching event arrives (see events.bus)."""
    correlation_id = task.input.get("correlationId", d.state.correlation_id)
    event = str(task.input["event"])
    correlation = str(correlation_id) if correlation_id not in (None, "") else None
    if _refused(d, task, "WAIT", "event", event):
        return
    if correlation is not None and _refused(d, task, "WAIT", "correlationId", correlation):
        return
    d.commands.append(AwaitEvent(task_id=task.task_id, event=event, correlation_id=correlation))


def _refused(d: DecisionContext, task: TaskState, kind: str, field: str, value: str) -> bool:
    """Fail ``task`` if ``value``, computed from its input, cannot be stored as a name.

    The bus keeps event types, names and correlation ids in indexed text columns; a NUL
    character there would fail the whole decision's write on PostgreSQL (and be kept on
    SQLite), so the step fails instead, the same on both stores.
    """
    problem = nul_problem(value)
    if problem is None:
        return False
    d.fail(
        task,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        f"{kind} task '{task.ref}': input '{field}' is {value!r}, which {problem}",
    )
    return True


class EventHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_event(d, task, step)
