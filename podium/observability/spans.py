"""The spans of a run: one for the run, one per task attempt with its queued and running parts.

```
run <workflow>                      trace id from the run id; root of the run's trace
└─ task <ref>                       span id from the task id: what workers continue from
   ├─ queued                        scheduled -> handed out
   └─ running                       handed out -> result (a worker's span is a sibling child)
```

A sub-workflow's run has its own trace, linked to the task that started it; a caller that
sent ``traceparent`` when starting a run gets a ``start <workflow>`` span in its own trace,
linked to the run's.
"""

from __future__ import annotations

from typing import Any

from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.observability.context import TraceParent, run_span_id, run_trace_id, task_span_id
from podium.observability.notes import Note, RunBegan, RunEnded, TaskEnded
from podium.observability.tracing import SpanEmitter, SpanLink

__all__ = ["RunSpans"]

_TASK_ERRORS = frozenset(
    {
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        TaskStatus.TIMED_OUT,
        TaskStatus.CANCELED,
    }
)


def _run_attributes(run: RunState) -> dict[str, Any]:
    return {
        "podium.workflow.id": run.run_id,
        "podium.workflow.name": run.name,
        "podium.workflow.version": run.version,
        "podium.workflow.status": str(run.status),
        "podium.correlation_id": run.correlation_id,
    }


class RunSpans:
    def __init__(self, emitter: SpanEmitter) -> None:
        self.emitter = emitter

    def emit(self, notes: list[Note], caller: str | None) -> None:
        for note in notes:
            match note:
                case TaskEnded(run=run, task=task, service=service):
                    self._task(run, task, service)
                case RunEnded(run=run):
                    self._run(run)
                case RunBegan(run=run):
                    self._start(run, caller)

    def _start(self, run: RunState, caller: str | None) -> None:
        parent = TraceParent.parse(caller)
        if parent is None:
            return
        self.emitter.emit(
            f"start {run.name}",
            trace_id=parent.trace_id,
            span_id=None,
            parent_span_id=parent.span_id,
            start_ms=run.created_at,
            end_ms=run.created_at,
            attributes=_run_attributes(run),
            links=[(run_trace_id(run.run_id), run_span_id(run.run_id))],
            kind="PRODUCER",
        )

    def _run(self, run: RunState) -> None:
        links: list[SpanLink] = []
        if run.parent_run_id and run.parent_task_id:
            links.append((run_trace_id(run.parent_run_id), task_span_id(run.parent_task_id)))
        self.emitter.emit(
            f"run {run.name}",
            trace_id=run_trace_id(run.run_id),
            span_id=run_span_id(run.run_id),
            parent_span_id=None,
            start_ms=run.start_at or run.created_at,
            end_ms=run.end_at or run.updated_at or run.created_at,
            attributes={**_run_attributes(run), "podium.reason": run.reason},
            links=links,
            error=None if run.status == RunStatus.COMPLETED else (run.reason or str(run.status)),
        )

    def _task(self, run: RunState, task: TaskState, service: str | None) -> None:
        trace_id = run_trace_id(run.run_id)
        span_id = task_span_id(task.task_id)
        end = task.end_at or task.update_at or task.scheduled_at
        attributes = {
            "podium.workflow.id": run.run_id,
            "podium.workflow.name": run.name,
            "podium.task.id": task.task_id,
            "podium.task.ref": task.ref,
            "podium.task.type": task.name if task.type == "SIMPLE" else task.type,
            "podium.task.status": str(task.status),
            "podium.task.retry_count": task.retry_count,
            "podium.worker.id": task.worker_id,
            "podium.service": service,
            "podium.correlation_id": run.correlation_id,
        }
        error = (task.reason or str(task.status)) if task.status in _TASK_ERRORS else None
        self.emitter.emit(
            f"task {task.ref}",
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=run_span_id(run.run_id),
            start_ms=task.scheduled_at,
            end_ms=end,
            attributes=attributes,
            error=error,
        )
        if task.queue is None:
            return  # a system task runs inside a decision: it never waits in a queue
        started = task.start_at if task.start_at is not None else end
        for name, start_ms, end_ms in (
            ("queued", task.scheduled_at, started),
            ("running", started, end),
        ):
            self.emitter.emit(
                name,
                trace_id=trace_id,
                span_id=None,
                parent_span_id=span_id,
                start_ms=start_ms,
                end_ms=end_ms,
                attributes={"podium.task.id": task.task_id},
            )
