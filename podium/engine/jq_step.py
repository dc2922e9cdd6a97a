"""JSON_JQ_TRANSFORM's query, shared by its handler (engine/handlers/jq_transform.py) and
the server's jq executor: run in the decision when the query is quick, on the server's queue if not.

A decision runs inside the store's writer, and every unit of work waits for it. So the query
first gets ``INLINE_MS`` there; one still running then is handed to the server's jq executor
on ``JQ_QUEUE``, which runs it again with the whole ``PODIUM_JQ_TIME_LIMIT_MS`` outside any
unit of work and reports the result like a worker. Either way the outcome is the same:
``result`` is the query's first output and ``resultList`` all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.dsl import evaluators
from podium.dsl.nesting import deeper_than, render_path
from podium.engine.state import TaskStatus

__all__ = ["INLINE_MS", "INLINE_PER_DECISION", "JQ_QUEUE", "JqOutcome", "jq_lease_s", "jq_outcome"]

JQ_QUEUE = "_podium.jq"
"""The queue the server's own jq executor polls; workers never see it."""

INLINE_MS = 50
"""How long a query may run inside a decision before it is handed to the jq executor."""

INLINE_PER_DECISION = 20
"""Queries one decision runs itself; later ones go to the jq executor at once, so that many
queries just under ``INLINE_MS`` cannot add up to a long hold of the writer."""


@dataclass(frozen=True, slots=True)
class JqOutcome:
    status: TaskStatus
    output: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    timed_out: bool = False


def jq_outcome(task_input: dict[str, Any], time_limit_ms: int, max_json_depth: int) -> JqOutcome:
    """What the task's query gives within ``time_limit_ms``: its outputs, or why it failed."""
    query = task_input.get("queryExpression")
    if not isinstance(query, str) or not query:
        return JqOutcome(
            TaskStatus.FAILED, reason="JSON_JQ_TRANSFORM needs a 'queryExpression' input"
        )
    try:
        results = evaluators.jq(query, task_input, time_limit_ms=time_limit_ms)
    except evaluators.EvaluationError as exc:
        timed_out = exc.code == "E_SCRIPT_TIMEOUT"
        setting = " (PODIUM_JQ_TIME_LIMIT_MS)" if timed_out else ""
        return JqOutcome(
            TaskStatus.FAILED,
            {"error": exc.message},
            f"jq query failed: {exc.message}{setting}",
            timed_out,
        )
    path = deeper_than(results, max_json_depth)
    if path is not None:
        return JqOutcome(
            TaskStatus.FAILED,
            reason=f"jq query failed: its {render_path('resultList', path)} is past the limit "
            f"of {max_json_depth} levels of nested objects and arrays (PODIUM_MAX_JSON_DEPTH)",
        )
    output = {"result": results[0] if results else None, "resultList": results}
    return JqOutcome(TaskStatus.COMPLETED, output)


def jq_lease_s(time_limit_ms: int) -> int:
    """How long the jq executor may hold a query before another instance may take it over."""
    return time_limit_ms // 1000 + 30
