"""WAIT (for a duration, until a time, for an event, or for a signal through the API) and
HUMAN (finished through the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.models import WorkflowTask
from podium.engine.events import CancelTimer, StartTimer
from podium.engine.handlers import event
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus
from podium.engine.timing import parse_duration_s, parse_until_ms, timer_key_wait

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["HumanHandler", "WaitHandler"]


def run_wait(d: DecisionContext, task: TaskState) -> None:
    task = d.state.edit(task)  # this decision's own to change
    task.status = TaskStatus.IN_PROGRESS
    task.start_at = d.now
    duration = task.input.get("duration")
    until = task.input.get("until")
    try:
        if duration not in (None, ""):
            due = d.now + int(parse_duration_s(str(duration)) * 1000)
        elif until not in (None, ""):
            due = parse_until_ms(str(until))
        elif task.input.get("event") not in (None, ""):
            event.await_event(d, task)
            return
        else:
            return  # waits for a signal through the API
    except ValueError as exc:
        d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, str(exc))
        return
    d.commands.append(StartTimer(timer_key_wait(task.task_id), due))


class WaitHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_wait(d, task)

    def clear_timers(self, d: DecisionContext, task: TaskState) -> None:
        d.commands.append(CancelTimer(timer_key_wait(task.task_id)))


class HumanHandler(TaskHandler):
    """Waits IN_PROGRESS until it is finished through the API."""

    outside_effects = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        task = d.state.edit(task)
        task.status = TaskStatus.IN_PROGRESS
        task.start_at = d.now
