"""Which run each task handed out here belongs to, remembered for its result.

A batch of results (``update-batch``) is grouped by run before it is recorded, so that the
branches of one fan-out lock and write their run once. On PostgreSQL finding the runs is a
query of its own, before any result can be recorded: a round trip and a pooled connection for
every batch, most of whose results (many runs, a step each) gain nothing from being grouped.
A task never moves to another run, so what this server learnt when it handed the task out
stays true; only tasks it never handed out (another instance did, or they were forgotten to
bound the memory) are looked up.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["TaskRuns"]


class TaskRuns:
    """A bounded map of task id -> run id: the oldest entries are forgotten first."""

    __slots__ = ("_runs", "limit")

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._runs: dict[str, str] = {}

    def note(self, task_id: str, run_id: str) -> None:
        runs = self._runs
        runs[task_id] = run_id
        if len(runs) > self.limit:
            # Insertion order is the order they were handed out: the oldest go first.
            for stale in list(runs)[: len(runs) - self.limit // 2]:
                del runs[stale]

    def known(self, task_ids: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        """The runs of the tasks known here, and the ids of those that are not."""
        runs = self._runs
        found: dict[str, str] = {}
        unknown: list[str] = []
        for task_id in task_ids:
            run_id = runs.get(task_id)
            if run_id is None:
                unknown.append(task_id)
            else:
                found[task_id] = run_id
        return found, unknown

    def forget(self, task_id: str) -> None:
        self._runs.pop(task_id, None)

    def __len__(self) -> int:
        return len(self._runs)
