"""Steps chosen at run time: FORK_JOIN_DYNAMIC's branches and DYNAMIC's task name.

A dynamic fork reads its branches from its inputs, in either of Conductor's two forms:

* ``dynamicForkTasksParam`` names an input holding a list of tasks (Conductor JSON) and
  ``dynamicForkTasksInputParamName`` an input mapping each task's reference name to its input;
* ``forkTaskName`` (or ``forkTaskWorkflow`` for sub-workflows) with ``forkTaskInputs``, one
  branch per input, named ``_<forkTaskName>_<i>`` as Conductor names them. ``forkTaskType``
  gives the branches' type (SIMPLE unless said), and names them when ``forkTaskName`` is absent.

Each branch is one task, of any type in ``BRANCH_TYPES``: system types (HTTP, INLINE,
SET_VARIABLE, ...) run as they would in the definition, HTTP ones on the server's executor. The fork records them in its input (``forkedTasks``,
``forkedTaskDefs``) and completes; advancing it schedules the branches and the JOIN that
follows, whose ``joinOn`` input lists the branches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from podium.dsl import expressions
from podium.dsl.bounds import nul_problem
from podium.dsl.models import TaskType, WorkflowTask
from podium.engine.context import TASK_ID_PARAMETER, task_context
from podium.engine.state import TaskState, TaskStatus
from podium.errors import ValidationError

if TYPE_CHECKING:
    from podium.engine.decider import Decider

__all__ = ["BRANCH_TYPES", "branch_input", "fork_successors", "run_dynamic", "run_fork_dynamic"]

BRANCH_TYPES = frozenset(
    {
        TaskType.SIMPLE,
        TaskType.HTTP,
        TaskType.SUB_WORKFLOW,
        TaskType.INLINE,
        TaskType.LAMBDA,
        TaskType.JSON_JQ_TRANSFORM,
        TaskType.WAIT,
        TaskType.HUMAN,
        TaskType.NOOP,
        TaskType.SET_VARIABLE,
        TaskType.START_WORKFLOW,
    }
)
"""Task types a branch may have: those that need no place in the definition to run."""

_BY_NAME = BRANCH_TYPES - {TaskType.SIMPLE}
"""System types a SIMPLE branch may name instead (``{"name": "HTTP"}``): Conductor gives a
SIMPLE task its name as its type, so its system task runs it, not a worker queue of that name."""


_OWN_INPUT = "__ownInputParameters"
_FORK_INPUT = "__forkInput"
"""A branch spec's own inputParameters as written, and the fork's input for it, kept when
the former reads ``${CPEWF_TASK_ID}`` (see ``branch_input``)."""


class _BadFork(ValidationError):
    """A dynamic fork's branches that cannot run; it fails the fork's task with its message."""

    code = "E_DYNAMIC_FORK"

    def __init__(self, message: str) -> None:
        super().__init__(message, service="engine")


def run_fork_dynamic(d: Decider, task: TaskState, step: WorkflowTask) -> None:
    task = d.state.edit(task)  # this decision's own to change
    try:
        branches = _branches(d, task, step)
    except _BadFork as exc:
        d.fail(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, exc.message)
        return
    width = d.blueprint.limits.max_fork_width
    if len(branches) > width:
        d.fail(
            task,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"FORK_JOIN_DYNAMIC '{task.ref}' asks for {len(branches)} branches; "
            f"the limit is {width} (PODIUM_MAX_FORK_WIDTH)",
        )
        return
    task.input = {
        **task.input,
        "forkedTasks": [branch["taskReferenceName"] for branch in branches],
        "forkedTaskDefs": branches,
    }
    d.finish(task, TaskStatus.COMPLETED)


def branch_input(
    d: Decider, spec: dict[str, Any], task_id: str, given: dict[str, Any]
) -> dict[str, Any]:
    """The input of the branch task ``task_id`` made from ``spec``: its own inputParameters
    see ``${CPEWF_TASK_ID}`` as that id, and the fork's input for it is added as given. A
    spec whose input does not read the id keeps ``given``."""
    template = spec.get(_OWN_INPUT)
    if not isinstance(template, dict):
        return given
    own = expressions.resolve(template, task_context(d.context(), task_id))
    return {**own, **spec.get(_FORK_INPUT, {})}


def fork_successors(d: Decider, fork: TaskState) -> None:
    """Schedule the branches a completed dynamic fork chose, then its JOIN."""
    refs: list[str] = []
    for spec in fork.input.get("forkedTaskDefs") or []:
        branch = d.schedule(
            WorkflowTask.model_validate(spec),
            within=fork,
            dynamic=spec,
            task_input=branch_input(
                d, spec, d.next_task_id(), dict(spec.get("inputParameters") or {})
            ),
        )
        refs.append(branch.ref)
    for step in d.blueprint.next_after(fork.def_ref):
        d.schedule(step, within=fork, task_input={"joinOn": refs})


def run_dynamic(d: Decider, task: TaskState, step: WorkflowTask) -> None:
    """DYNAMIC: a SIMPLE task whose name is the input ``dynamicTaskNameParam`` names."""
    task = d.state.edit(task)  # this decision's own to change
    param = step.dynamicTaskNameParam or ""
    name = task.input.get(param)
    if not isinstance(name, str) or not name:
        d.fail(
            task,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"DYNAMIC task '{task.ref}': input '{param}' should name the task to run, "
            f"but it is {name!r}",
        )
        return
    problem = nul_problem(name)
    if problem is not None:
        # The name becomes the queue's, which no store can index with a NUL in it.
        d.fail(
            task,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"DYNAMIC task '{task.ref}': input '{param}' names the task to run, {name!r}, "
            f"which {problem}",
        )
        return
    task.name = name
    task.type = TaskType.SIMPLE
    d.enqueue(task, step, name)


def _branches(d: Decider, task: TaskState, step: WorkflowTask) -> list[dict[str, Any]]:
    inputs = task.input
    if isinstance(inputs.get("forkTaskInputs"), list):
        specs = _simple_form(inputs, step)
    elif step.dynamicForkTasksParam:
        specs = _task_list_form(d, inputs, step)
    else:
        raise _BadFork(
            f"FORK_JOIN_DYNAMIC '{task.ref}': input '{step.dynamicForkTasksParam}' "
            "or 'forkTaskInputs' should list the tasks to fork"
        )
    seen = set(d.state.refs()) | set(d.blueprint.locations)
    for spec in specs:
        try:
            branch = WorkflowTask.model_validate(spec)
        except ValueError as exc:  # pydantic's ValidationError
            raise _BadFork(
                f"FORK_JOIN_DYNAMIC '{task.ref}': a forked task is not valid: {exc}"
            ) from exc
        if branch.type not in BRANCH_TYPES:
            raise _BadFork(
                f"FORK_JOIN_DYNAMIC '{task.ref}': forked task '{branch.taskReferenceName}' "
                f"has type {branch.type}; a branch may be one of {', '.join(sorted(BRANCH_TYPES))}"
            )
        if branch.type == TaskType.SUB_WORKFLOW and branch.subWorkflowParam is None:
            raise _BadFork(
                f"FORK_JOIN_DYNAMIC '{task.ref}': forked task '{branch.taskReferenceName}' "
                "is a SUB_WORKFLOW without subWorkflowParam"
            )
        ref = branch.taskReferenceName + task.suffix
        if ref in seen:
            raise _BadFork(
                f"FORK_JOIN_DYNAMIC '{task.ref}': forked task reference name "
                f"'{branch.taskReferenceName}' is already used in this workflow"
            )
        seen.add(ref)
    return specs


def _simple_form(inputs: dict[str, Any], step: WorkflowTask) -> list[dict[str, Any]]:
    workflow = inputs.get("forkTaskWorkflow")
    kind = inputs.get("forkTaskType") or TaskType.SIMPLE
    # A system forkTaskType names the branches when forkTaskName does not, as in Conductor.
    default = kind if kind in _BY_NAME else step.taskReferenceName
    name = inputs.get("forkTaskName") or default
    try:
        version = int(inputs["forkTaskWorkflowVersion"])
    except (KeyError, TypeError, ValueError):
        version = None
    specs: list[dict[str, Any]] = []
    for i, item in enumerate(inputs["forkTaskInputs"]):
        params = dict(item) if isinstance(item, dict) else {"input": item}
        params["__index"] = i
        spec: dict[str, Any] = {
            "name": str(workflow or name),
            "taskReferenceName": f"_{name}_{i}",
            "type": _branch_type(str(kind), str(name)),
            "inputParameters": params,
            "optional": step.optional,
        }
        if workflow:
            spec["type"] = TaskType.SUB_WORKFLOW.value
            spec["subWorkflowParam"] = {"name": str(workflow), "version": version}
        specs.append(spec)
    return specs


def _task_list_form(d: Decider, inputs: dict[str, Any], step: WorkflowTask) -> list[dict[str, Any]]:
    listed = inputs.get(step.dynamicForkTasksParam or "")
    if listed is None:
        listed = []
    if not isinstance(listed, list) or not all(isinstance(t, dict) for t in listed):
        raise _BadFork(
            f"input '{step.dynamicForkTasksParam}' should be a list of tasks, not {listed!r}"
        )
    per_task = inputs.get(step.dynamicForkTasksInputParamName or "")
    if not isinstance(per_task, dict):
        raise _BadFork(
            f"input '{step.dynamicForkTasksInputParamName}' should map each forked task's "
            f"reference name to its input, not {per_task!r}"
        )
    context = d.context()
    specs: list[dict[str, Any]] = []
    for listed_task in listed:
        ref = listed_task.get("taskReferenceName")
        if not isinstance(ref, str) or not ref:
            raise _BadFork("a forked task has no taskReferenceName")
        spec = {"name": ref, "type": TaskType.SIMPLE.value, **listed_task}
        spec["type"] = _branch_type(str(spec["type"]), str(spec["name"]))
        template = listed_task.get("inputParameters") or {}
        own = expressions.resolve(template, context)
        extra = per_task.get(ref) or {}
        if not isinstance(own, dict) or not isinstance(extra, dict):
            raise _BadFork(f"the input of forked task '{ref}' should be an object")
        spec["inputParameters"] = {**own, **extra}
        if TASK_ID_PARAMETER in orjson.dumps(template).decode():
            # It reads the branch's own id, which it has only once scheduled: resolved again
            # then (branch_input), as Conductor resolves it when it maps the branch's task.
            spec[_OWN_INPUT], spec[_FORK_INPUT] = template, extra
        specs.append(spec)
    return specs


def _branch_type(kind: str, name: str) -> str:
    """A branch's type: a SIMPLE one named for a system type a branch may be is that type."""
    if kind == TaskType.SIMPLE and name in _BY_NAME:
        return name
    return kind
