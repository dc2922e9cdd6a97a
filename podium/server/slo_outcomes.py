"""The outcome rows a unit of work writes for SLOs: one per run and per task attempt that
ended (of the tasks run outside the engine), from the notes the observer took of the
decision. So they are in the same transaction as the end itself: no end is counted twice, or
lost, whichever instance decided it."""

from __future__ import annotations

from podium.engine.state import TaskStatus
from podium.observability.notes import Note, RunEnded, TaskEnded
from podium.store.slos_base import OutcomeRow

__all__ = ["outcomes_of"]

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
                # Only work done outside the engine has outcomes worth an objective: a worker's,
                # the HTTP or jq executor's (the tasks with a queue), or a sub-workflow's. The
                # steps a decision finishes itself (SWITCH, SET_VARIABLE, JOIN...) write none.
                outside = task.queue is not None or task.sub_workflow_id is not None
                if not outside or task.status in _NOT_OUTCOMES:
                    continue
                ended = task.end_at if task.end_at is not None else now
                took = None if task.start_at is None else max(0, ended - task.start_at)
                # A DO_WHILE iteration's task is its step's, whatever iteration it ran in.
                rows.append(
                    OutcomeRow(ended, run.name, task.def_ref, service, str(task.status), took)
                )
    return rows
