"""Reading a big run a part at a time: a filtered page of its tasks, and its tasks counted by
step for the graph.

A run of a long DO_WHILE or a wide dynamic fork holds thousands of tasks. Turning each into
Conductor's ``Task`` JSON is what costs, so a page filters and counts on the tasks as the
engine keeps them and encodes only the ones it answers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from podium.dsl.models import TaskType
from podium.engine.state import TaskState, TaskStatus
from podium.errors import ValidationError
from podium.server.units import RunView
from podium.server.views import shown_status, task_json

__all__ = ["TaskQuery", "step_counts", "task_page"]


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """Which of a run's tasks a page is drawn from; an empty filter takes every task."""

    statuses: frozenset[str] = frozenset()
    ref_prefix: str = ""
    iteration: int | None = None
    step: str = ""
    """A reference name: the task of that name, or the step of that name as the definition (or
    a dynamic fork) writes it, in every loop iteration."""

    @classmethod
    def parse(
        cls,
        status: list[str] | None,
        ref_prefix: str | None,
        iteration: int | None,
        step: str | None = None,
    ) -> TaskQuery:
        """From the query string: ``status`` repeated or comma-separated, as Conductor's
        clients send it either way."""
        wanted = {s.strip().upper() for value in status or [] for s in value.split(",")}
        wanted.discard("")
        for value in sorted(wanted):
            if value not in TaskStatus.__members__:
                raise ValidationError(
                    f"'{value}' is not a task status ({', '.join(TaskStatus)})", field="status"
                )
        return cls(frozenset(wanted), ref_prefix or "", iteration, step or "")

    def matches(self, task: TaskState, status: str) -> bool:
        if self.statuses and status not in self.statuses:
            return False
        if self.ref_prefix and not task.ref.startswith(self.ref_prefix):
            return False
        if self.step and self.step != task.ref and self.step != task.def_ref:
            return False
        return self.iteration is None or task.iteration == self.iteration


def task_page(view: RunView, query: TaskQuery, start: int, count: int) -> dict[str, Any]:
    """Conductor's ``TaskListSearchResultSummary``: the tasks ``query`` takes, in the order
    they were scheduled, from ``start``; ``summary`` counts the whole run's tasks by status."""
    state, entries = view.state, view.entries
    summary: Counter[str] = Counter()
    found: list[TaskState] = []
    for task in state.tasks:
        status = shown_status(task, entries.get(task.task_id))
        summary[status] += 1
        if query.matches(task, status):
            found.append(task)
    results = [
        task_json(state, t, entries.get(t.task_id), view.blames.get(t.task_id))
        for t in found[start : start + count]
    ]
    return {"totalHits": len(found), "results": results, "summary": dict(summary)}


def step_counts(view: RunView) -> dict[str, Any]:
    """Each step's tasks counted by status, keyed by the step's reference name as written in
    the definition, so the graph can draw a loop's thousand iterations or a fork's thousand
    branches as one node. Only a step's latest attempts count: a retried task is one task.

    ``steps[ref]`` has ``count``, ``counts`` (by status), ``status`` (the newest task's) and
    ``iterations`` (the highest iteration it ran in); ``branches[ref]`` counts the tasks a
    dynamic fork ``ref`` chose the same way, and gives the first few with their status
    (``first``), to draw when the fork is opened up."""
    state, entries = view.state, view.entries
    fork_of: dict[str, str] = {}
    for task in state.tasks:
        if task.type == TaskType.FORK_JOIN_DYNAMIC:
            for ref in task.input.get("forkedTasks") or []:
                fork_of[str(ref)] = task.def_ref
    steps: dict[str, dict[str, Any]] = {}
    branches: dict[str, dict[str, Any]] = {}
    for task in state.tasks:
        if not task.is_latest:
            continue
        status = shown_status(task, entries.get(task.task_id))
        fork = fork_of.get(task.def_ref) if task.dynamic_step is not None else None
        if fork is None:
            _count(steps, task.def_ref, status, task)
            continue
        # A branch is no step of the definition: it counts only in its fork's group.
        group = _count(branches, fork, status, task)
        if len(group["first"]) < _NAMED_BRANCHES:
            group["first"].append({"referenceTaskName": task.ref, "status": status})
    for group in steps.values():
        del group["first"]
    return {"totalTasks": len(state.tasks), "steps": steps, "branches": branches}


_NAMED_BRANCHES = 50
"""Branches named in a fork's group: enough to draw some when it is expanded."""


def _count(
    groups: dict[str, dict[str, Any]], key: str, status: str, task: TaskState
) -> dict[str, Any]:
    group = groups.get(key)
    if group is None:
        group = groups[key] = {"count": 0, "counts": {}, "iterations": 0, "first": []}
    group["count"] += 1
    group["counts"][status] = group["counts"].get(status, 0) + 1
    group["status"] = status  # tasks come in the order they were scheduled: the newest wins
    group["iterations"] = max(group["iterations"], task.iteration)
    return group
