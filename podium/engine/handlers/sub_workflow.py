"""SUB_WORKFLOW (a child run this task waits for) and START_WORKFLOW (an independent run;
the server completes the task with its id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.dsl import expressions
from podium.dsl.bounds import INT4_MAX, INT4_MIN, nul_problem
from podium.dsl.models import WorkflowTask
from podium.engine.events import StartChild, StartTimer, StartWorkflow
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus, derive_id
from podium.engine.timing import timer_key_task_timeout

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["StartWorkflowHandler", "SubWorkflowHandler"]


def run_sub_workflow(d: DecisionContext, task: TaskState, step: WorkflowTask) -> None:
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
    if _too_deep(d, task, "SUB_WORKFLOW", name):
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


def run_start_workflow(d: DecisionContext, task: TaskState) -> None:
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
    if _too_deep(d, task, "START_WORKFLOW", name):
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


def _too_deep(d: DecisionContext, task: TaskState, kind: str, name: str) -> bool:
    """Fail ``task`` if the run it starts would be past the depth limit: a child, or a run a
    START_WORKFLOW starts, is one deeper than its parent, so a workflow that starts itself
    stops there."""
    limit = d.blueprint.limits.max_subworkflow_depth
    if d.state.depth + 1 <= limit:
        return False
    d.fail(
        task,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        f"{kind} '{task.ref}' would start '{name}' at depth {d.state.depth + 1}; "
        f"the limit is {limit} (PODIUM_MAX_SUBWORKFLOW_DEPTH)",
    )
    return True


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


class SubWorkflowHandler(TaskHandler):
    outside_effects = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_sub_workflow(d, task, step)


class StartWorkflowHandler(TaskHandler):
    outside_effects = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        run_start_workflow(d, task)
