"""Which ends a decision's notes turn into SLO outcome rows, and what each row says."""

from __future__ import annotations

from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.observability.notes import RunBegan, RunEnded, TaskEnded
from podium.server.slo_outcomes import outcomes_of
from podium.store.slos_base import OutcomeRow


def _task(ref: str, status: TaskStatus, **extra) -> TaskState:
    return TaskState(f"id-{ref}", ref, ref, "SIMPLE", status, 1, 0, **extra)


def test_runs_and_tasks_run_outside_the_engine_have_outcomes():
    run = RunState("r", "checkout", 1, RunStatus.COMPENSATED, 100, start_at=1_000, end_at=4_500)
    worker = _task("pay", TaskStatus.FAILED, queue="pay", start_at=1_200, end_at=1_700)
    looped = _task(
        "ship__3",
        TaskStatus.COMPLETED,
        queue="ship",
        start_at=2_000,
        end_at=2_250,
        scope_loops=["loop"],
        scope_iterations=[3],
    )
    child = _task("sub", TaskStatus.COMPLETED, sub_workflow_id="c", start_at=3_000, end_at=4_000)
    system = _task("mark", TaskStatus.COMPLETED, start_at=4_000, end_at=4_000)
    cancelled = _task("late", TaskStatus.CANCELED, queue="late", start_at=4_100, end_at=4_500)
    unstarted = _task("never", TaskStatus.TIMED_OUT, queue="never")
    notes = [
        RunBegan(run),
        TaskEnded(run, worker, "payments"),
        TaskEnded(run, looped, None),
        TaskEnded(run, child, None),
        TaskEnded(run, system, None),
        TaskEnded(run, cancelled, None),
        TaskEnded(run, unstarted, "shipping"),
        RunEnded(run),
    ]
    assert outcomes_of(notes, now=9_000) == [
        OutcomeRow(1_700, "checkout", "pay", "payments", "FAILED", 500),
        # An iteration's task counts for its step as the definition names it.
        OutcomeRow(2_250, "checkout", "ship", None, "COMPLETED", 250),
        OutcomeRow(4_000, "checkout", "sub", None, "COMPLETED", 1_000),
        # Never handed out: it failed, but took no measurable time.
        OutcomeRow(9_000, "checkout", "never", "shipping", "TIMED_OUT", None),
        # The run: from its start (not its creation) to its end.
        OutcomeRow(4_500, "checkout", "", None, "COMPENSATED", 3_500),
    ]
