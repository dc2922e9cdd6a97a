"""What the observer notes about a decision: tasks ended, retried, runs begun and ended."""

from __future__ import annotations

from podium.engine.events import RunStarted, TaskResult
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.observability.notes import RunBegan, RunEnded, TaskEnded, TaskRetried
from podium.observability.observer import Observer


class _NoSteps:
    def step_of(self, task):
        raise KeyError(task.ref)


def _task(task_id: str, status: TaskStatus, retry_count: int = 0) -> TaskState:
    return TaskState(task_id, task_id, "step", "SIMPLE", status, 1, 0, retry_count=retry_count)


def _run(status: RunStatus, *tasks: TaskState) -> RunState:
    return RunState("r1", "flow", 1, status, 0, tasks=list(tasks))


def test_notes_each_ended_task_once_even_when_old_tasks_are_dropped():
    before = _run(
        RunStatus.RUNNING,
        _task("old", TaskStatus.COMPLETED),
        _task("t2", TaskStatus.IN_PROGRESS),
        _task("t3", TaskStatus.FAILED),
    )
    # keepLastN dropped "old"; t2 ended; a system task began and ended; t3 is retried.
    after = _run(
        RunStatus.RUNNING,
        _task("t2", TaskStatus.COMPLETED),
        _task("t3", TaskStatus.FAILED),
        _task("sys", TaskStatus.COMPLETED),
        _task("t3b", TaskStatus.SCHEDULED, retry_count=1),
    )
    notes = []
    Observer().on_decision(
        notes, before, after, TaskResult(5, "t2", TaskStatus.COMPLETED, {}), _NoSteps()
    )
    ended = [n.task.task_id for n in notes if isinstance(n, TaskEnded)]
    retried = [n.task.task_id for n in notes if isinstance(n, TaskRetried)]
    assert (ended, retried) == (["t2", "sys"], ["t3b"])
    assert all(n.service is None for n in notes if isinstance(n, TaskEnded))


def test_notes_a_run_beginning_and_ending():
    notes = []
    observer = Observer()
    observer.on_decision(
        notes, _run(RunStatus.RUNNING), _run(RunStatus.RUNNING), RunStarted(0), _NoSteps()
    )
    done = _run(RunStatus.COMPLETED)
    observer.on_decision(notes, _run(RunStatus.RUNNING), done, RunStarted(0), _NoSteps())
    observer.on_decision(
        notes, done, done, TaskResult(1, "x", TaskStatus.COMPLETED, {}), _NoSteps()
    )
    assert [type(n) for n in notes] == [RunBegan, RunBegan, RunEnded]
