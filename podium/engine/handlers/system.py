"""The system tasks that end inside the decision that starts them: NOOP, FORK_JOIN (its
branches follow it), SET_VARIABLE, INLINE, LAMBDA and TERMINATE.

A script that fails or runs too long fails its task with the reason; nothing here raises out
of the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl import evaluators
from podium.dsl.models import WorkflowTask
from podium.engine.handlers.base import TaskHandler
from podium.engine.handlers.guards import past_depth
from podium.engine.state import RunStatus, TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = [
    "ForkHandler",
    "InlineHandler",
    "LambdaHandler",
    "NoopHandler",
    "SetVariableHandler",
    "TerminateHandler",
]


def run_inline(d: DecisionContext, task: TaskState) -> None:
    """INLINE: ``evaluatorType`` and ``expression`` are inputs, ``$`` is every input."""
    task = d.state.edit(task)  # this decision's own to change
    evaluator = str(task.input.get("evaluatorType") or "")
    expression = task.input.get("expression")
    if not isinstance(expression, str) or not expression:
        d.fail(task, TaskStatus.FAILED, "INLINE needs an 'expression' input")
        return
    _run_script(d, task, evaluator, expression, "INLINE expression")


def run_lambda(d: DecisionContext, task: TaskState) -> None:
    """LAMBDA, Conductor's older INLINE: ``scriptExpression`` is the body of a JavaScript
    function (it ``return``s its result) with ``$`` bound to every input."""
    task = d.state.edit(task)  # this decision's own to change
    script = task.input.get("scriptExpression")
    if not isinstance(script, str) or not script.strip():
        d.fail(
            task,
            TaskStatus.FAILED,
            "Empty 'scriptExpression' in Lambda task's input parameters. A non-empty String "
            "value must be provided.",
        )
        return
    # As Conductor does: the body runs as a function's, called at once (the line break
    # keeps a trailing line comment from swallowing the closing brace).
    wrapped = f"function scriptFun(){{{script}\n}} scriptFun();"
    _run_script(d, task, "javascript", wrapped, "LAMBDA script")


def _run_script(
    d: DecisionContext, task: TaskState, evaluator: str, script: str, what: str
) -> None:
    """Evaluate ``script`` over the task's input (an INLINE's or a LAMBDA's): the result is
    ``output.result``; a script that fails, or a result nested too deep, fails the task."""
    try:
        result = evaluators.evaluate(evaluator, script, task.input)
    except evaluators.EvaluationError as exc:
        task.output = {"error": exc.message}
        d.fail(task, TaskStatus.FAILED, f"{what} failed: {exc.message}")
        return
    reason = past_depth(d, "result", result)
    if reason is not None:
        d.fail(task, TaskStatus.FAILED, f"{what} failed: its {reason}")
        return
    task.output = {"result": result}
    d.finish(task, TaskStatus.COMPLETED)


def run_terminate(d: DecisionContext, task: TaskState) -> None:
    task = d.state.edit(task)  # this decision's own to change
    wanted = str(task.input.get("terminationStatus") or "COMPLETED").upper()
    status = {
        "COMPLETED": RunStatus.COMPLETED,
        "FAILED": RunStatus.FAILED,
        "TERMINATED": RunStatus.TERMINATED,
    }.get(wanted, RunStatus.FAILED)
    output = task.input.get("workflowOutput")
    task.output = {"output": output} if output is not None else {}
    task.status = TaskStatus.COMPLETED
    task.start_at = task.end_at = d.now
    task.advanced = True
    reason = task.input.get("terminationReason")
    if isinstance(output, dict):
        d.state.output = output
    d.end(status, str(reason) if reason else None, keep_output=isinstance(output, dict))


class NoopHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        d.finish(task, TaskStatus.COMPLETED)


class ForkHandler(NoopHandler):
    """FORK_JOIN completes at once: its branches are the steps that follow it."""


class SetVariableHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        d.state.variables = d.state.variables | task.input
        d.finish(task, TaskStatus.COMPLETED)


class InlineHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_inline(d, task)


class LambdaHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_lambda(d, task)


class TerminateHandler(TaskHandler):
    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_terminate(d, task)
