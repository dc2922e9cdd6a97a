"""Bounds on what one run may grow to, chosen by the server and carried by the Blueprint.

The engine reads no settings, so the server builds these from its own and hands them in with
each definition; a run that would go past one fails the step that would, naming the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.dsl.nesting import DEFAULT_MAX_DEPTH

__all__ = ["EngineLimits"]


@dataclass(frozen=True, slots=True)
class EngineLimits:
    max_fork_width: int = 1000
    """Branches one FORK_JOIN (registration) or FORK_JOIN_DYNAMIC (run time) may have."""
    max_loop_iterations: int = 10_000
    """Iterations one DO_WHILE may start."""
    max_subworkflow_depth: int = 20
    """How deep SUB_WORKFLOWs may nest: a top-level run is at depth 0."""
    max_json_depth: int = DEFAULT_MAX_DEPTH
    """Levels a task's resolved input or a script's result may nest (``dsl/nesting.py``)."""
    max_tasks_per_run: int = 20_000
    """Tasks one run may hold (those ``keepLastN`` dropped do not count)."""
    decision_step_budget: int = 1000
    """Tasks one decision may schedule before the run goes on in a later unit of work."""
    jq_time_limit_ms: int = 1000
    """How long one jq query may run before its process is killed."""
