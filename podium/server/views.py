"""Runs and tasks as Conductor's JSON shapes (camelCase, epoch milliseconds, status enums)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from podium.dsl.models import TaskType
from podium.engine.compensation import COMPENSATES, idempotency_key
from podium.engine.state import RunState, TaskState, TaskStatus
from podium.observability.context import run_trace_id, task_traceparent
from podium.server.attribution import FAILED_TASK_STATUSES, Blame
from podium.store.base import QueueEntry

__all__ = ["run_json", "shown_status", "summary_json", "task_json", "task_summary_json"]


def shown_status(task: TaskState, entry: QueueEntry | None) -> str:
    """The status a task is shown with: a scheduled task a worker has leased is running."""
    if task.status == TaskStatus.SCHEDULED and entry is not None and entry.lease_owner is not None:
        return str(TaskStatus.IN_PROGRESS)
    return str(task.status)


def task_json(
    state: RunState, task: TaskState, entry: QueueEntry | None, blame: Blame | None = None
) -> dict[str, Any]:
    """A task as Conductor's ``Task``, with live lease data from its queue entry and, when
    known, the service behind it (named in its failure reason too)."""
    worker_id = task.worker_id
    started = task.start_at
    polls = task.poll_count
    response_timeout_s = 0
    if entry is not None:
        response_timeout_s = entry.response_timeout_ms // 1000
        polls = max(polls, entry.poll_count)
        started = started or entry.started_at
        if entry.lease_owner is not None:
            worker_id = entry.lease_owner
    body: dict[str, Any] = {
        "taskId": task.task_id,
        "taskType": task.name if task.type == TaskType.SIMPLE else task.type,
        "taskDefName": task.name,
        "referenceTaskName": task.ref,
        "status": shown_status(task, entry),
        "inputData": task.input,
        "outputData": task.output,
        "reasonForIncompletion": task.reason,
        "retryCount": task.retry_count,
        "seq": task.seq,
        "pollCount": polls,
        "workerId": worker_id,
        "correlationId": state.shown_correlation_id,
        "workflowInstanceId": state.run_id,
        "workflowType": state.name,
        "scheduledTime": task.scheduled_at,
        "startTime": started or 0,
        "endTime": task.end_at or 0,
        "updateTime": task.update_at or task.end_at or task.scheduled_at,
        "startDelayInSeconds": max(0, (task.available_at - task.scheduled_at) // 1000),
        "retriedTaskId": task.retried_task_id,
        "retried": task.retried,
        "executed": task.advanced,
        "callbackFromWorker": True,
        "callbackAfterSeconds": task.callback_after_s,
        "responseTimeoutSeconds": response_timeout_s,
        "subWorkflowId": task.sub_workflow_id,
        "workflowPriority": state.priority,
        "domain": task.domain,
        "iteration": task.iteration,
        "idempotencyKey": _idempotency_key(state, task),
        "logs": task.logs,
        # Conductor embeds the whole step; the SDK's Workflow.get_task() reads its reference
        # name from here, so at least the step's identity is given.
        "workflowTask": {"name": task.name, "taskReferenceName": task.ref, "type": task.type},
        # W3C trace context for the worker's own spans; Conductor clients ignore the field.
        "traceparent": task_traceparent(state.run_id, task.task_id),
    }
    if blame is not None:
        body["service"] = blame.to_json()
        # A task with no service named keeps its worker's words as they were (the run's
        # reason still says that nobody is named); the others say whom to call.
        named = blame.service is not None or blame.inside_podium
        if task.reason and task.status in FAILED_TASK_STATUSES and named:
            body["reasonForIncompletion"] = f"{task.reason} [{blame.phrase()}]"
    return body


def _idempotency_key(state: RunState, task: TaskState) -> str:
    """Stable across a step's retries; a compensation's names the step it undoes."""
    if task.dynamic_step is not None and COMPENSATES in task.dynamic_step:
        return idempotency_key(state.run_id, str(task.dynamic_step[COMPENSATES]))
    return f"{state.run_id}:{task.ref}"


def run_json(
    state: RunState,
    entries: dict[str, QueueEntry],
    *,
    include_tasks: bool = True,
    blames: Mapping[str, Blame] | None = None,
) -> dict[str, Any]:
    """A run as Conductor's ``Workflow``; a failed one says which service failed and whom to
    call (``failure``, and in ``reasonForIncompletion``)."""
    blames = blames or {}
    failed = [t for t in state.tasks if t.ref in state.failed_refs and t.is_latest]
    body: dict[str, Any] = {
        "workflowId": state.run_id,
        "workflowName": state.name,
        "workflowType": state.name,
        "workflowVersion": state.version,
        "version": state.version,
        "status": str(state.status),
        "input": state.input,
        "output": state.output,
        "variables": state.variables,
        "correlationId": state.shown_correlation_id,
        "reasonForIncompletion": state.reason,
        "createTime": state.created_at,
        "startTime": state.start_at or state.created_at,
        "endTime": state.end_at or 0,
        "updateTime": state.updated_at or state.created_at,
        "parentWorkflowId": state.parent_run_id,
        "parentWorkflowTaskId": state.parent_task_id,
        "failedReferenceTaskNames": list(state.failed_refs),
        "failedTaskNames": [t.name for t in failed],
        "priority": state.priority,
        "taskToDomain": state.task_to_domain,
        "idempotencyKey": state.idempotency_key,
        "traceId": run_trace_id(state.run_id),
        "createdBy": state.created_by,
        "inlineDefinitionHash": state.inline_definition,
    }
    if state.schedule_name is not None:
        body["scheduleName"] = state.schedule_name
        body["scheduledTime"] = state.scheduled_time
    culprit = next((t for t in failed if t.task_id in blames), None)
    if culprit is not None and state.status.is_terminal:
        blame = blames[culprit.task_id]
        body["failure"] = {
            "taskReferenceName": culprit.ref,
            "taskId": culprit.task_id,
            "taskType": str(culprit.type),
            "reason": culprit.reason,
            **blame.to_json(),
        }
        if state.reason:
            body["reasonForIncompletion"] = f"{state.reason} [{blame.phrase()}]"
    if state.compensation is not None:
        body["compensation"] = state.compensation
    if include_tasks:
        body["tasks"] = [
            task_json(state, t, entries.get(t.task_id), blames.get(t.task_id)) for t in state.tasks
        ]
    return body


def summary_json(state: RunState) -> dict[str, Any]:
    """A run as Conductor's ``WorkflowSummary`` (search results)."""
    started = state.start_at or state.created_at
    end = state.end_at or 0
    return {
        "workflowId": state.run_id,
        "workflowType": state.name,
        "version": state.version,
        "status": str(state.status),
        "correlationId": state.shown_correlation_id,
        "startTime": started,
        "updateTime": state.updated_at or state.created_at,
        "endTime": end,
        "executionTime": (end - started) if end else 0,
        "reasonForIncompletion": state.reason,
        "input": state.input,
        "output": state.output,
        "failedReferenceTaskNames": ",".join(state.failed_refs),
        "priority": state.priority,
        "createdBy": state.created_by,
        "inlineDefinitionHash": state.inline_definition,
    }


def task_summary_json(task: dict[str, Any]) -> dict[str, Any]:
    """A task (as ``task_json`` gives it) as Conductor's ``TaskSummary``: its input and output
    as JSON text, and how long it waited and ran."""
    scheduled, started, ended = task["scheduledTime"], task["startTime"], task["endTime"]
    return {
        "workflowId": task["workflowInstanceId"],
        "workflowType": task["workflowType"],
        "correlationId": task["correlationId"],
        "scheduledTime": scheduled,
        "startTime": started,
        "updateTime": task["updateTime"],
        "endTime": ended,
        "status": task["status"],
        "reasonForIncompletion": task["reasonForIncompletion"],
        "executionTime": (ended - started) if ended and started else 0,
        "queueWaitTime": (started - scheduled) if started else 0,
        "taskDefName": task["taskDefName"],
        "taskType": task["taskType"],
        "input": orjson.dumps(task["inputData"]).decode(),
        "output": orjson.dumps(task["outputData"]).decode(),
        "taskId": task["taskId"],
        "workflowPriority": task["workflowPriority"],
        "domain": task["domain"],
    }
