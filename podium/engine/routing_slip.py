"""ROUTING_SLIP: run an itinerary of steps given at run time, one after the other.

The task's ``itinerary`` input lists the steps as Conductor task JSON (``name``, ``type``
defaulting to SIMPLE, ``taskReferenceName`` defaulting to ``name``, ``inputParameters``,
``compensation``, ``optional``, ``taskDefinition``). The slip stays IN_PROGRESS and runs each
step as a task of the run, resolving the step's ``inputParameters`` when it starts, so a step
can read ``${<earlier step>.output...}``. A step's output may amend what is left to do:
``itinerary`` replaces the remaining steps, ``addSteps`` appends steps to the end.

Everything the slip knows is in its output — ``steps`` (the itinerary as amended so far),
``position`` (the step running) and ``results`` (each finished step's output) — so it survives
restarts like any task. A step that fails beyond its retries fails the run, which then
compensates the slip's completed steps like any others (engine/compensation.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.dsl import expressions
from podium.dsl.models import COMPENSATION_TYPES, TaskType, WorkflowTask
from podium.engine.context import task_context
from podium.engine.dynamic import BRANCH_TYPES
from podium.engine.state import TaskState, TaskStatus
from podium.errors import ValidationError

if TYPE_CHECKING:
    from podium.engine.decider import Decider

__all__ = ["AMEND_ADD", "AMEND_REPLACE", "check_slip", "normalise_steps", "start_slip"]

AMEND_REPLACE = "itinerary"
"""A step's output key whose list of steps replaces the rest of the itinerary."""
AMEND_ADD = "addSteps"
"""A step's output key whose list of steps is appended to the itinerary."""

STEP_TYPES = BRANCH_TYPES - {TaskType.START_WORKFLOW}
_WITH_TASK_DEF = frozenset({TaskType.SIMPLE, TaskType.HTTP})


class BadItineraryError(ValidationError):
    """An itinerary (or an amendment) that cannot run; the message says which step and why.

    It fails the ROUTING_SLIP task with its message; it never reaches a caller."""

    code = "E_ITINERARY"

    def __init__(self, message: str) -> None:
        super().__init__(message, service="engine")


def normalise_steps(raw: Any, taken: set[str], suffix: str = "") -> list[dict[str, Any]]:
    """The steps of ``raw`` as full task JSON. ``taken`` holds the reference names already in
    use; a step's own is its name plus ``suffix``, what loop iterations add to it."""
    if not isinstance(raw, list):
        raise BadItineraryError(f"the itinerary must be a list of steps, not {raw!r}")
    specs: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadItineraryError(f"step {i} must be an object with a 'name', not {item!r}")
        try:
            step = WorkflowTask.model_validate(
                {"type": "SIMPLE", "taskReferenceName": item["name"], **item}
            )
        except ValueError as exc:  # pydantic's ValidationError
            raise BadItineraryError(f"step {i} ('{item['name']}') is not valid: {exc}") from exc
        ref = step.taskReferenceName
        where = f"step {i} ('{ref}')"
        if step.type not in STEP_TYPES:
            raise BadItineraryError(
                f"{where} has type {step.type}; a step may be one of {', '.join(sorted(STEP_TYPES))}"
            )
        if step.type == TaskType.SUB_WORKFLOW and step.subWorkflowParam is None:
            raise BadItineraryError(f"{where} is a SUB_WORKFLOW without subWorkflowParam")
        undo = step.compensation
        if undo is not None and undo.type not in COMPENSATION_TYPES:
            raise BadItineraryError(
                f"{where}: compensation.type {undo.type} is not one of "
                f"{', '.join(sorted(COMPENSATION_TYPES))}"
            )
        if undo is not None and undo.type == TaskType.SUB_WORKFLOW and not undo.subWorkflowParam:
            raise BadItineraryError(f"{where}: a SUB_WORKFLOW compensation needs subWorkflowParam")
        if ref + suffix in taken:
            raise BadItineraryError(f"{where}: reference name '{ref}' is already used in this run")
        taken.add(ref + suffix)
        specs.append(step.to_json())
    return specs


def start_slip(d: Decider, slip: TaskState, retry_of: TaskState | None) -> None:
    slip = d.state.edit(slip)  # this decision's own to change
    slip.status = TaskStatus.IN_PROGRESS
    slip.start_at = d.now
    if retry_of is not None and "steps" in retry_of.output:
        # A retried run picks the slip up where it stopped: the step that failed is retried
        # beside this attempt, and the steps before stay done.
        slip.output = dict(retry_of.output)
        return
    try:
        steps = normalise_steps(slip.input.get("itinerary"), _taken(d, slip), slip.suffix)
    except BadItineraryError as exc:
        d.fail(
            slip, TaskStatus.FAILED_WITH_TERMINAL_ERROR, f"ROUTING_SLIP '{slip.ref}': {exc.message}"
        )
        return
    slip.output = {"steps": steps, "position": 0, "results": {}}
    if steps:
        _run_step(d, slip, steps[0])
    else:
        d.finish(slip, TaskStatus.COMPLETED)


def check_slip(d: Decider, slip: TaskState) -> bool:
    """Once the current step has finished: amend the itinerary, then run the next or finish."""
    steps: list[dict[str, Any]] = slip.output.get("steps") or []
    position: int = slip.output.get("position") or 0
    if position >= len(steps):
        return False
    current = steps[position]["taskReferenceName"]
    step = d.state.latest(current + slip.suffix)
    if step is None or step.status.is_active or not step.status.is_success:
        return False  # running; a failure has already failed the slip (or been let go)
    rest = steps[position + 1 :]
    suffix = slip.suffix
    taken = _taken(d, slip)
    try:
        if AMEND_REPLACE in step.output:
            rest = normalise_steps(step.output[AMEND_REPLACE], set(taken), suffix)
        if AMEND_ADD in step.output:
            taken |= {s["taskReferenceName"] + suffix for s in rest}
            rest = rest + normalise_steps(step.output[AMEND_ADD], taken, suffix)
    except BadItineraryError as exc:
        d.fail(
            slip,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"ROUTING_SLIP '{slip.ref}': step '{current}' amended the itinerary wrongly: {exc.message}",
        )
        return True
    steps = steps[: position + 1] + rest
    results = {**slip.output.get("results", {}), current: step.output}
    slip = d.state.edit(slip)
    slip.output = {"steps": steps, "position": position + 1, "results": results}
    if rest:
        _run_step(d, slip, rest[0])
    else:
        d.finish(slip, TaskStatus.COMPLETED)
    return True


def _taken(d: Decider, slip: TaskState) -> set[str]:
    """Reference names in use: the run's tasks, the definition's steps (which expressions
    would confuse with a step of the same name) and the slip's steps so far."""
    suffix = slip.suffix
    steps = slip.output.get("steps") or []
    return (
        set(d.state.refs())
        | {ref + suffix for ref in d.blueprint.locations}
        | {s["taskReferenceName"] + suffix for s in steps[: (slip.output.get("position") or 0) + 1]}
    )


def _run_step(d: Decider, slip: TaskState, spec: dict[str, Any]) -> None:
    # The step keeps the TaskDefs in force when it starts, as a definition's steps keep theirs
    # from the start of the run: its retries and compensation do not change under it.
    spec = _with_task_def(d, spec)
    if isinstance(spec.get("compensation"), dict):
        spec["compensation"] = _with_task_def(d, spec["compensation"])
    context = task_context(d.context(), d.next_task_id())
    resolved = expressions.resolve(spec.get("inputParameters") or {}, context)
    task_input = resolved if isinstance(resolved, dict) else {"value": resolved}
    d.schedule(WorkflowTask.model_validate(spec), within=slip, dynamic=spec, task_input=task_input)


def _with_task_def(d: Decider, spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("taskDefinition") is not None or spec.get("type") not in _WITH_TASK_DEF:
        return dict(spec)
    found = d.task_defs.get(str(spec.get("name")))
    return {**spec, "taskDefinition": found.to_json()} if found else dict(spec)
