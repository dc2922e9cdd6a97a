"""The outcome rows a unit of work writes for SLOs: one per run and per task attempt that
ended, from the notes the observer took of the decision (so in the same transaction as the
end itself: no end is counted twice, or lost, whichever instance decided it)."""

from __future__ import annotations

import re

from podium.engine.state import TaskStatus
from podium.observability.observer import Note, RunEnded, TaskEnded
from podium.store.slos_base import OutcomeRow

__all__ = ["outcomes_of"]

_ITERATION = re.compile(r"(__\d+)+$")
# Not outcomes of the step's work: the run ended around them, or a branch was not taken.
_NOT_OUTCOMES = {TaskStatus.CANCELED, TaskStatus.SKIPPED}


def outcomes_of(notes: list[Note], now: int) -> list[OutcomeRow]:
    rows: list[OutcomeRow] = []
    for note in notes:
        match note:
            case RunEnded(run=run):
                ended = run.end_at if run.end_at is not None else now
                started = run.start_at or run.created_at
                rows.append(
                    OutcomeRow(ended, run.name, "", None, str(run.status), max(0, ended - started))
                )
            case TaskEnded(run=run, task=task, service=service):
                if task.status in _NOT_OUTCOMES:
                    continue
                ended = task.end_at if task.end_at is not None else now
                took = None if task.start_at is None else max(0, ended - task.start_at)
                # A DO_WHILE iteration's task is its step's, whatever iteration it ran in.
                step = _ITERATION.sub("", task.ref)
                rows.append(OutcomeRow(ended, run.name, step, service, str(task.status), took))
    return rows
