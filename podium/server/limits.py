"""The server's limits on payloads and definitions, checked before anything is written.

Sizes are measured on the JSON Podium would store, so what a client sends compactly or with
whitespace counts the same. The engine's own bounds (loop iterations, fork width at run time,
sub-workflow depth) travel to it as ``EngineLimits`` inside each Blueprint.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from podium.dsl import walk
from podium.dsl.models import TaskType, WorkflowDef
from podium.dsl.nesting import LARGEST_MAX_DEPTH, deeper_than, render_path
from podium.engine.limits import EngineLimits
from podium.errors import PayloadTooLargeError, ValidationError
from podium.settings import Settings

__all__ = [
    "check_depth",
    "check_fork_width",
    "check_run_input",
    "check_task_output",
    "engine_limits",
    "settings_of",
]


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_limits(settings: Settings) -> EngineLimits:
    if not 2 <= settings.max_json_depth <= LARGEST_MAX_DEPTH:
        raise ValueError(
            f"PODIUM_MAX_JSON_DEPTH must be between 2 and {LARGEST_MAX_DEPTH}, "
            f"not {settings.max_json_depth}"
        )
    for name, value in (
        ("PODIUM_JQ_TIME_LIMIT_MS", settings.jq_time_limit_ms),
        ("PODIUM_DECISION_STEP_BUDGET", settings.decision_step_budget),
        ("PODIUM_MAX_TASKS_PER_RUN", settings.max_tasks_per_run),
    ):
        if value <= 0:
            raise ValueError(f"{name} must be positive, not {value}")
    return EngineLimits(
        max_fork_width=settings.max_fork_width,
        max_loop_iterations=settings.max_loop_iterations,
        max_subworkflow_depth=settings.max_subworkflow_depth,
        max_json_depth=settings.max_json_depth,
        max_tasks_per_run=settings.max_tasks_per_run,
        decision_step_budget=settings.decision_step_budget,
        jq_time_limit_ms=settings.jq_time_limit_ms,
    )


def check_depth(limit: int, value: Any, field: str | None = None) -> None:
    """400 when ``value`` nests deeper than ``limit``, naming where; ``field`` is what the
    value stands for (a body that is a run's input), or None for a body whose keys are fields.
    """
    path = deeper_than(value, limit)
    if path is None:
        return
    named = [part for part in path if isinstance(part, str)]
    top = path[: path.index(named[0]) + 1] if named and field is None else ()
    raise ValidationError(
        f"{render_path(field or '', path) or 'the body'} is past the limit of {limit} levels "
        "of nested objects and arrays (PODIUM_MAX_JSON_DEPTH)",
        service="server",
        field=field or render_path("", top) or "body",
    )


def _size(value: Any) -> int:
    return len(orjson.dumps(value))


def check_task_output(settings: Settings, task_id: str, output: dict[str, Any] | None) -> None:
    """413 when a worker's ``outputData`` is over the limit; the run is left as it was."""
    if not output:
        return
    size, limit = _size(output), settings.max_task_output_bytes
    if size > limit:
        raise PayloadTooLargeError(
            f"outputData of task {task_id} is {size} bytes; the limit is {limit} "
            "(PODIUM_MAX_TASK_OUTPUT_BYTES)",
            service="server",
            field="outputData",
        )


def check_run_input(settings: Settings, name: str, run_input: dict[str, Any] | None) -> None:
    """413 when the input of a run about to start is over the limit; nothing is started."""
    if not run_input:
        return
    size, limit = _size(run_input), settings.max_workflow_input_bytes
    if size > limit:
        raise PayloadTooLargeError(
            f"the input of workflow '{name}' is {size} bytes; the limit is {limit} "
            "(PODIUM_MAX_WORKFLOW_INPUT_BYTES)",
            service="server",
            field="input",
        )


def check_fork_width(settings: Settings, definition: WorkflowDef, prefix: str = "") -> None:
    """400 naming the FORK_JOIN whose branches are more than a run may fan out to."""
    limit = settings.max_fork_width
    for step in walk.steps(definition.tasks):
        if step.type == TaskType.FORK_JOIN and len(step.forkTasks) > limit:
            raise ValidationError(
                f"FORK_JOIN '{step.taskReferenceName}' has {len(step.forkTasks)} branches; "
                f"the limit is {limit} (PODIUM_MAX_FORK_WIDTH)",
                service="server",
                field=f"{prefix}forkTasks",
            )
