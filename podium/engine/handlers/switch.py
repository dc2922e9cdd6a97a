"""SWITCH and Conductor's legacy DECISION: evaluate, record the case, and let the case's
first step follow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl import evaluators
from podium.dsl.models import WorkflowTask
from podium.engine.context import case_label
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["DecisionHandler", "SwitchHandler"]


def run_switch(d: DecisionContext, task: TaskState, step: WorkflowTask) -> None:
    task = d.state.edit(task)  # this decision's own to change
    evaluator = step.evaluatorType or "value-param"
    try:
        value = evaluators.evaluate(evaluator, step.expression or "", task.input)
    except evaluators.EvaluationError as exc:
        d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, exc.message)
        return
    case = case_label(value)
    task.output = {"evaluationResult": [case], "selectedCase": case}
    d.finish(task, TaskStatus.COMPLETED)


def run_decision(d: DecisionContext, task: TaskState, step: WorkflowTask) -> None:
    """Conductor's legacy DECISION: ``caseExpression`` (JavaScript) or ``caseValueParam``."""
    task = d.state.edit(task)  # this decision's own to change
    try:
        if step.caseExpression:
            value = evaluators.evaluate("javascript", step.caseExpression, task.input)
        else:
            value = task.input.get(step.caseValueParam or "")
    except evaluators.EvaluationError as exc:
        d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, exc.message)
        return
    task.output = {"caseOutput": [case_label(value)]}
    d.finish(task, TaskStatus.COMPLETED)


class SwitchHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_switch(d, task, step)

    def selected_case(self, task: TaskState) -> str | None:
        return str(task.output.get("selectedCase"))


class DecisionHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_decision(d, task, step)

    def selected_case(self, task: TaskState) -> str | None:
        return str((task.output.get("caseOutput") or [None])[0])
