"""Searching tasks (``/api/tasks/search``, ``/api/workflow/search-by-tasks``).

Conductor searches tasks in an index of their own; Podium keeps a run's tasks inside the run.
A task search therefore reads the runs its run-level clauses allow (``workflowId``,
``workflowType``, ``correlationId``), newest first and at most ``MAX_RUNS_SCANNED`` of them,
and filters, sorts and pages their tasks. Narrow the run clauses to reach older runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podium.engine.state import RunState, TaskState, TaskStatus
from podium.errors import ValidationError
from podium.server.search import check_page, read_clauses, read_sort
from podium.server.views import task_json
from podium.store.base import RunQuery, StoreTx

__all__ = ["MAX_RUNS_SCANNED", "TaskHit", "TaskSearch", "parse_task_search", "search_tasks"]

MAX_RUNS_SCANNED = 1000
"""How many of the newest runs matching a task search's run clauses it looks through."""

# Conductor's names for what a task may be sorted by: fields of its ``Task`` JSON.
_SORT_FIELDS = {
    "scheduledTime",
    "startTime",
    "updateTime",
    "endTime",
    "taskType",
    "taskDefName",
    "referenceTaskName",
    "status",
    "taskId",
    "workflowId",
    "workflowType",
    "correlationId",
    "retryCount",
    "seq",
}
_TIMES = {"scheduledTime", "startTime", "updateTime", "endTime"}


@dataclass(frozen=True, slots=True)
class TaskHit:
    """A task that matched, with the run it belongs to."""

    run: RunState
    task: TaskState
    body: dict[str, Any]
    """The task as Conductor's ``Task``, which sorting reads too."""


@dataclass(frozen=True, slots=True)
class TaskSearch:
    """A parsed task search: the runs to look through, and what a task must match."""

    runs: RunQuery
    start: int
    size: int
    tests: tuple[Callable[[dict[str, Any]], bool], ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    free_text: str | None = None
    statuses: frozenset[str] = field(default_factory=frozenset)

    def matches(self, body: dict[str, Any]) -> bool:
        if self.statuses and body["status"] not in self.statuses:
            return False
        if self.free_text is not None and self.free_text not in (
            body["taskId"],
            body["workflowInstanceId"],
            body["taskType"],
            body["taskDefName"],
            body["referenceTaskName"],
            body["correlationId"],
        ):
            return False
        return all(test(body) for test in self.tests)


def _equals(key: str, values: tuple[str, ...]) -> Callable[[dict[str, Any]], bool]:
    wanted = set(values)
    return lambda body: str(body.get(key)) in wanted


def _time(key: str, op: str, value: str) -> Callable[[dict[str, Any]], bool]:
    try:
        bound = int(value)
    except ValueError:
        raise ValidationError(
            f"{key} must be epoch milliseconds, not {value!r}", field="query"
        ) from None
    if op in (">", ">="):
        return lambda body: int(body.get(key) or 0) >= bound
    return lambda body: 0 < int(body.get(key) or 0) <= bound


def parse_task_search(
    *, start: int, size: int, query: str | None, free_text: str | None, sort: str | None
) -> TaskSearch:
    """Read Conductor's task search forms; a clause or sort it cannot serve is a 400."""
    check_page(start, size)
    names: list[str] = []
    run_ids: list[str] = []
    correlation_id: str | None = None
    statuses: set[str] = set()
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for clause in read_clauses(query):
        name, op, values = clause.field, clause.op, clause.values
        if not values:
            raise ValidationError(f"query clause on {name} has no value", field="query")
        if name == "workflowType" and op in ("=", "IN"):
            names.extend(values)
        elif name in ("workflowId", "workflowInstanceId") and op in ("=", "IN"):
            run_ids.extend(values)
        elif name == "correlationId" and op == "=":
            correlation_id = values[0]
        elif name == "status" and op in ("=", "IN"):
            for value in values:
                if value.upper() not in TaskStatus.__members__:
                    raise ValidationError(
                        f"'{value}' is not a task status ({', '.join(TaskStatus)})",
                        field="query",
                    )
            statuses.update(value.upper() for value in values)
        elif name in ("taskType", "taskDefName", "taskId", "referenceTaskName") and op in (
            "=",
            "IN",
        ):
            tests.append(_equals(name, values))
        elif name in _TIMES and op in (">", ">=", "<", "<="):
            tests.append(_time(name, op, values[0]))
        else:
            raise ValidationError(f"cannot search tasks by {name} {op}", field="query")
    text = (free_text or "").strip()
    return TaskSearch(
        runs=RunQuery(
            names=tuple(dict.fromkeys(names)),
            run_ids=tuple(dict.fromkeys(run_ids)),
            correlation_id=correlation_id,
            size=MAX_RUNS_SCANNED,
        ),
        start=start,
        size=size,
        tests=tuple(tests),
        order=tuple(read_sort(sort, _SORT_FIELDS)),
        free_text=text if text not in ("", "*") else None,
        statuses=frozenset(statuses),
    )


def _sort_key(body: dict[str, Any], name: str) -> tuple[bool, Any]:
    value = body.get(name if name != "workflowId" else "workflowInstanceId")
    if name in _TIMES and not value:
        value = None  # not reached yet: last, whichever the direction
    return (value is None, value if value is not None else "")


def search_tasks(tx: StoreTx, search: TaskSearch) -> list[TaskHit]:
    """Every task of the runs looked through that matches, in the order asked (newest run
    first, then each run's tasks in the order they were scheduled, by default)."""
    _, runs = tx.search_runs(search.runs)
    hits: list[TaskHit] = []
    for run in runs:
        entries = {entry.task_id: entry for entry in tx.queue_entries(run.run_id)}
        for task in run.tasks:
            body = task_json(run, task, entries.get(task.task_id))
            if search.matches(body):
                hits.append(TaskHit(run, task, body))
    # Stable sorts from the last key to the first give the combined order; missing values
    # stay last in either direction.
    for name, descending in reversed(search.order):
        present = [h for h in hits if _sort_key(h.body, name)[0] is False]
        missing = [h for h in hits if _sort_key(h.body, name)[0] is True]
        present.sort(key=lambda hit: _sort_key(hit.body, name)[1], reverse=descending)
        hits = present + missing
    return hits
