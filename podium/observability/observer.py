"""What the orchestrator reports about each unit of work: metrics, spans and one log line.

The orchestrator calls ``on_decision`` and ``on_claim`` inside a unit of work; they only note
what happened, in a list kept with the unit's outbox. ``after_commit`` turns the notes into
metrics, spans and a log line once the commit is done, so a unit that the store runs twice
(PostgreSQL, after a deadlock) is counted once.
"""

from __future__ import annotations

import logging
from typing import Any

from podium.engine.blueprint import Blueprint
from podium.engine.events import Event, RunStarted
from podium.engine.state import RunState, TaskState, TaskStatus
from podium.observability.context import correlation_id_var, request_id_var, traceparent_var
from podium.observability.logs import UNITS_LOGGER
from podium.observability.metrics import BREAKER_LEVELS, Metrics, queue_label
from podium.observability.notes import (
    Note,
    RunBegan,
    RunEnded,
    TaskClaimed,
    TaskEnded,
    TaskRetried,
)
from podium.observability.spans import RunSpans
from podium.observability.tracing import SpanEmitter
from podium.resilience.breaker import Transition

__all__ = ["Observer"]

log = logging.getLogger(UNITS_LOGGER)


def _service_of(blueprint: Blueprint, task: TaskState) -> str | None:
    try:
        step = blueprint.step_of(task)
    except Exception:  # a step the definition no longer knows: report the task without one
        return None
    if step.service:
        return step.service
    return step.taskDefinition.service if step.taskDefinition else None


class Observer:
    """Metrics always; spans when tracing is configured; unit log lines when INFO is on."""

    def __init__(self, metrics: Metrics | None = None, spans: SpanEmitter | None = None) -> None:
        self.metrics = metrics or Metrics()
        self.spans = RunSpans(spans) if spans is not None else None

    # ---- inside the unit of work: notes only -------------------------------------------

    def on_decision(
        self,
        notes: list[Note],
        before: RunState,
        after: RunState,
        event: Event,
        blueprint: Blueprint,
    ) -> None:
        if isinstance(event, RunStarted):
            notes.append(RunBegan(after))
        # Only the tasks the decision touched may have changed; by id, not position:
        # DO_WHILE's keepLastN drops old tasks from the front.
        for task in after.touched():
            earlier = before.task(task.task_id)
            active_before = None if earlier is None else earlier.status.is_active
            if active_before is None and task.retry_count > 0 and task.status.is_active:
                notes.append(TaskRetried(after.run_id, task))
            if task.status.is_active or active_before is False:
                continue
            notes.append(TaskEnded(after, task, _service_of(blueprint, task)))
        if after.status.is_terminal and not before.status.is_terminal:
            notes.append(RunEnded(after))

    @staticmethod
    def on_claim(notes: list[Note], run_id: str, task: TaskState, now: int) -> None:
        notes.append(
            TaskClaimed(run_id, task, max(0, now - max(task.available_at, task.scheduled_at)))
        )

    # ---- after the commit ---------------------------------------------------------------

    def after_commit(
        self,
        op: str,
        notes: list[Note],
        transitions: list[tuple[str, Transition]],
        elapsed_ms: float,
    ) -> None:
        m = self.metrics
        for service, transition in transitions:
            m.breaker_transitions.labels(service, str(transition.to_state)).inc()
            m.breaker_state.labels(service).set(BREAKER_LEVELS.get(transition.to_state, -1.0))
        for note in notes:
            match note:
                case TaskClaimed(task=task, wait_ms=wait_ms):
                    m.queue_wait.labels(queue_label(task.queue or task.name)).observe(
                        wait_ms / 1000
                    )
                case TaskEnded(task=task, service=owner):
                    labels = (task.name, owner or "")
                    m.tasks_finished.labels(*labels, str(task.status)).inc()
                    if task.start_at is not None and task.end_at is not None:
                        m.task_latency.labels(*labels).observe((task.end_at - task.start_at) / 1000)
                case TaskRetried(task=task):
                    m.retries.labels(task.name).inc()
                case RunBegan(run=run):
                    m.runs_started.labels(run.name).inc()
                case RunEnded(run=run):
                    m.runs_finished.labels(run.name, str(run.status)).inc()
                    if run.end_at is not None:
                        started = run.start_at or run.created_at
                        m.run_duration.labels(run.name, str(run.status)).observe(
                            (run.end_at - started) / 1000
                        )
        if self.spans is not None and notes:
            self.spans.emit(notes, traceparent_var.get())
        if notes and log.isEnabledFor(logging.INFO):
            self._log_unit(op, notes, elapsed_ms)

    @staticmethod
    def _log_unit(op: str, notes: list[Note], elapsed_ms: float) -> None:
        runs: dict[str, dict[str, Any]] = {}
        tasks: list[dict[str, Any]] = []
        for note in notes:
            match note:
                case RunBegan(run=run) | RunEnded(run=run):
                    runs[run.run_id] = {
                        "workflowId": run.run_id,
                        "workflowType": run.name,
                        "status": str(run.status),
                        "correlationId": run.correlation_id,
                    }
                case TaskEnded(run=run, task=task, service=service):
                    tasks.append(_task_line(run.run_id, task, service, run.correlation_id))
                case TaskClaimed(run_id=run_id, task=task) | TaskRetried(run_id=run_id, task=task):
                    tasks.append(_task_line(run_id, task, None, None))
        correlation = correlation_id_var.get() or next(
            (r["correlationId"] for r in runs.values() if r["correlationId"]), None
        )
        log.info(
            "%s: %d run(s), %d task(s) in %.2f ms",
            op,
            len(runs),
            len(tasks),
            elapsed_ms,
            extra={
                "unit": op,
                "durationMs": round(elapsed_ms, 3),
                "requestId": request_id_var.get(),
                "correlationId": correlation,
                "runs": list(runs.values()),
                "tasks": tasks,
            },
        )


def _task_line(
    run_id: str, task: TaskState, service: str | None, correlation_id: str | None
) -> dict[str, Any]:
    from podium.observability.context import run_trace_id, task_span_id

    line: dict[str, Any] = {
        "workflowId": run_id,
        "taskId": task.task_id,
        "ref": task.ref,
        "taskType": task.name,
        "status": str(task.status),
        "retryCount": task.retry_count,
        "traceId": run_trace_id(run_id),
        "spanId": task_span_id(task.task_id),
    }
    if service:
        line["service"] = service
    if correlation_id:
        line["correlationId"] = correlation_id
    if task.reason and task.status not in (TaskStatus.COMPLETED, TaskStatus.SCHEDULED):
        line["reason"] = task.reason
    return line
