"""The task types the engine runs itself: how each one starts, and most finish at once.

Each function takes the decider (for the run, the clock reading of the event and the commands
gathered so far) and the task attempt just scheduled with its step. A script that fails or
runs too long fails its task with the reason; nothing here raises out of the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.dsl import evaluators, expressions
from podium.dsl.bounds import INT4_MAX, INT4_MIN, nul_problem
from podium.dsl.models import WorkflowTask
from podium.dsl.nesting import deeper_than, render_path
from podium.engine import event_tasks
from podium.engine.context import case_label
from podium.engine.events import StartChild, StartTimer, StartWorkflow
from podium.engine.state import RunStatus, TaskState, TaskStatus, derive_id
from podium.engine.timing import (
    parse_duration_s,
    parse_until_ms,
    timer_key_task_timeout,
    timer_key_wait,
)

if TYPE_CHECKING:
    from podium.engine.decider import Decider

__all__ = [
    "refuse_deep_input",
    "refuse_past_task_limit",
    "run_decision",
    "run_inline",
    "run_lambda",
    "run_start_workflow",
    "run_sub_workflow",
    "run_switch",
    "run_terminate",
    "run_wait",
]


def _past_depth(d: Decider, what: str, value: Any) -> str | None:
    """Why ``value`` may not be kept in the run, or None: nested past the depth limit, it
    would make the run's document too deep to be written, and every later step with it."""
    limit = d.blueprint.limits.max_json_depth
    path = deeper_than(value, limit)
    if path is None:
        return None
    return (
        f"{render_path(what, path)} is past the limit of {limit} levels of nested objects and "
        "arrays (PODIUM_MAX_JSON_DEPTH)"
    )


def refuse_past_task_limit(d: Decider, task: TaskState) -> bool:
    """End the run FAILED if ``task`` is one more than a run may hold; the task says why.

    The run ends rather than the task failing: an optional step or a retry would only go on
    to schedule more."""
    task = d.state.edit(task)  # this decision's own to change
    limit = d.blueprint.limits.max_tasks_per_run
    if len(d.state.tasks) <= limit:
        return False
    reason = (
        f"task '{task.ref}' would be task {len(d.state.tasks)} of the run; "
        f"the limit is {limit} (PODIUM_MAX_TASKS_PER_RUN)"
    )
    task.status = TaskStatus.FAILED_WITH_TERMINAL_ERROR
    task.reason = reason
    task.end_at = d.now
    task.advanced = True
    d.end(RunStatus.FAILED, reason, failed=task)
    return True


def refuse_deep_input(d: Decider, task: TaskState) -> bool:
    """Fail ``task`` if its resolved input nests too deep (templates nest values further)."""
    task = d.state.edit(task)  # this decision's own to change
    reason = _past_depth(d, "input", task.input)
    if reason is None:
        return False
    task.input = {}
    d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, reason)
    return True


def run_switch(d: Decider, task: TaskState, step: WorkflowTask) -> None:
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


def run_decision(d: Decider, task: TaskState, step: WorkflowTask) -> None:
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


def run_inline(d: Decider, task: TaskState) -> None:
    """INLINE: ``evaluatorType`` and ``expression`` are inputs, ``$`` is every input."""
    task = d.state.edit(task)  # this decision's own to change
    evaluator = str(task.input.get("evaluatorType") or "")
    expression = task.input.get("expression")
    if not isinstance(expression, str) or not expression:
        d.fail(task, TaskStatus.FAILED, "INLINE needs an 'expression' input")
        return
    try:
        result = evaluators.evaluate(evaluator, expression, task.input)
    except evaluators.EvaluationError as exc:
        task.output = {"error": exc.message}
        d.fail(task, TaskStatus.FAILED, f"INLINE expression failed: {exc.message}")
        return
    reason = _past_depth(d, "result", result)
    if reason is not None:
        d.fail(task, TaskStatus.FAILED, f"INLINE expression failed: its {reason}")
        return
    task.output = {"result": result}
    d.finish(task, TaskStatus.COMPLETED)


def run_lambda(d: Decider, task: TaskState) -> None:
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
    try:
        result = evaluators.evaluate("javascript", wrapped, task.input)
    except evaluators.EvaluationError as exc:
        task.output = {"error": exc.message}
        d.fail(task, TaskStatus.FAILED, f"LAMBDA script failed: {exc.message}")
        return
    reason = _past_depth(d, "result", result)
    if reason is not None:
        d.fail(task, TaskStatus.FAILED, f"LAMBDA script failed: its {reason}")
        return
    task.output = {"result": result}
    d.finish(task, TaskStatus.COMPLETED)


def run_terminate(d: Decider, task: TaskState) -> None:
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


def run_wait(d: Decider, task: TaskState) -> None:
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
            event_tasks.await_event(d, task)
            return
        else:
            return  # waits for a signal through the API
    except ValueError as exc:
        d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, str(exc))
        return
    d.commands.append(StartTimer(timer_key_wait(task.task_id), due))


def run_sub_workflow(d: Decider, task: TaskState, step: WorkflowTask) -> None:
    task = d.state.edit(task)  # this decision's own to change
    params = step.subWorkflowParam
    assert params is not None  # validation guarantees it; dynamic forks always set it
    name = params.child_name(step.name)
    priority = params.priority
    if isinstance(priority, str):  # an expression, read when the step runs, as in Conductor
        priority = expressions.resolve(priority, d.context())
    if priority is not None and not _is_priority(priority):
        d.fail(
            task,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"SUB_WORKFLOW '{task.ref}': subWorkflowParam.priority must be a number from 0 to 99, "
            f"not {priority!r}",
        )
        return
    limit = d.blueprint.limits.max_subworkflow_depth
    if d.state.depth + 1 > limit:
        d.fail(
            task,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"SUB_WORKFLOW '{task.ref}' would start '{name}' at depth {d.state.depth + 1}; "
            f"the limit is {limit} (PODIUM_MAX_SUBWORKFLOW_DEPTH)",
        )
        return
    task.status = TaskStatus.IN_PROGRESS
    task.start_at = d.now
    task.sub_workflow_id = derive_id(task.task_id, "child")
    d.commands.append(
        StartChild(
            child_run_id=task.sub_workflow_id,
            name=name,
            version=params.version,
            definition=params.inline_definition(step.name),
            input=task.input,
            correlation_id=d.state.correlation_id,
            parent_run_id=d.state.run_id,
            parent_task_id=task.task_id,
            depth=d.state.depth + 1,
            # Conductor: the step's own mapping, else the parent's; priority only if given.
            task_to_domain=d.state.task_to_domain
            if params.taskToDomain is None
            else params.taskToDomain,
            priority=priority or 0,
        )
    )
    task_def = d.task_def(step)
    if task_def.timeoutSeconds > 0:
        due = d.now + task_def.timeoutSeconds * 1000
        d.commands.append(StartTimer(timer_key_task_timeout(task.task_id), due))


def run_start_workflow(d: Decider, task: TaskState) -> None:
    """START_WORKFLOW: an independent run; the server completes the task with its id."""
    task = d.state.edit(task)  # this decision's own to change
    request = task.input.get("startWorkflow")
    name = request.get("name") if isinstance(request, dict) else None
    if not isinstance(request, dict) or not isinstance(name, str) or not name:
        d.fail(task, TaskStatus.FAILED, "START_WORKFLOW needs an input 'startWorkflow.name'")
        return
    version = request.get("version")
    run_input: Any = request.get("input") or {}
    if version is not None and not isinstance(version, int):
        d.fail(task, TaskStatus.FAILED, f"startWorkflow.version must be a number, not {version!r}")
        return
    if not isinstance(run_input, dict):
        d.fail(task, TaskStatus.FAILED, "startWorkflow.input must be an object")
        return
    # Conductor gives the started run this run's mapping unless the request has its own.
    task_to_domain = request.get("taskToDomain") or d.state.task_to_domain
    priority = request.get("priority") or 0
    if not _is_domain_map(task_to_domain) or not _is_priority(priority):
        d.fail(
            task,
            TaskStatus.FAILED,
            "startWorkflow.taskToDomain must map names to strings and "
            f"startWorkflow.priority be a number from 0 to 99, not {priority!r}",
        )
        return
    correlation_id = request.get("correlationId") or d.state.correlation_id
    correlation = str(correlation_id) if correlation_id is not None else None
    problem = _unstorable_start(name, version, correlation)
    if problem is not None:
        d.fail(
            task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, f"START_WORKFLOW '{task.ref}': {problem}"
        )
        return
    limit = d.blueprint.limits.max_subworkflow_depth
    if d.state.depth + 1 > limit:
        d.fail(
            task,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"START_WORKFLOW '{task.ref}' would start '{name}' at depth {d.state.depth + 1}; "
            f"the limit is {limit} (PODIUM_MAX_SUBWORKFLOW_DEPTH)",
        )
        return
    task.status = TaskStatus.IN_PROGRESS
    task.start_at = d.now
    d.commands.append(
        StartWorkflow(
            task_id=task.task_id,
            run_id=derive_id(task.task_id, "started"),
            name=name,
            version=version,
            input=run_input,
            correlation_id=correlation,
            task_to_domain=task_to_domain,
            priority=priority,
            depth=d.state.depth + 1,
        )
    )


def _is_domain_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _is_priority(value: Any) -> bool:
    return type(value) is int and 0 <= value <= 99


def _unstorable_start(name: str, version: int | None, correlation_id: str | None) -> str | None:
    """Why a run cannot be started with what START_WORKFLOW's input computed, or None.

    The new run's name, version and correlation id go to the store's indexed columns: a NUL
    or a version past 32 bits would fail the whole decision's write on PostgreSQL (and be kept
    on SQLite); no retry can change them, so the task fails for good instead.
    """
    for field, text in (
        ("startWorkflow.name", name),
        ("startWorkflow.correlationId", correlation_id),
    ):
        problem = nul_problem(text) if text is not None else None
        if problem is not None:
            return f"{field} is {text!r}, which {problem}"
    if version is not None and not INT4_MIN <= version <= INT4_MAX:
        return f"startWorkflow.version {version} is past the largest a version may be ({INT4_MAX})"
    return None
