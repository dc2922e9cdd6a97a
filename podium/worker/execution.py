"""Run one handler on one task and turn whatever happens into a Conductor ``TaskResult``."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import time
import traceback
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import orjson

from podium.worker.registry import WorkerTaskSpec
from podium.worker.task import Task, TaskFailedError, TaskInProgress

__all__ = ["MAX_REASON_CHARS", "TaskResult", "encode_json", "execute", "output_of"]

logger = logging.getLogger("podium.worker")

MAX_REASON_CHARS = 2000
"""Reasons longer than this are cut: they are shown in tables and logs, the full traceback
travels in ``logs``."""


def _default(obj: Any) -> Any:
    """Serialise what orjson does not know: Pydantic models and sets are common in handlers."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}")


def encode_json(body: Any) -> bytes:
    """JSON bytes for a request body; raises ``TypeError`` for values JSON cannot carry."""
    try:
        return orjson.dumps(body, default=_default)
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from exc


def output_of(value: Any) -> dict[str, Any]:
    """A handler's return value as ``outputData``: dicts as they are, None as ``{}``."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    return {"result": value}


def _cut(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A ``TaskResult`` body, encoded once so that retries of the update send the same bytes."""

    body: dict[str, Any]
    content: bytes

    @property
    def task_id(self) -> str:
        """The id of the task this result is for."""
        return str(self.body["taskId"])

    @property
    def status(self) -> str:
        """COMPLETED, FAILED, FAILED_WITH_TERMINAL_ERROR or IN_PROGRESS."""
        return str(self.body["status"])

    @classmethod
    def build(
        cls,
        task: Task,
        worker_id: str,
        status: str,
        output: Mapping[str, Any] | None = None,
        *,
        reason: str | None = None,
        callback_after_seconds: int | None = None,
        log: str | None = None,
    ) -> TaskResult:
        """The body Conductor expects; optional fields are left out rather than sent as null."""
        body: dict[str, Any] = {
            "workflowInstanceId": task.workflow_id,
            "taskId": task.task_id,
            "workerId": worker_id,
            "status": status,
            "outputData": dict(output or {}),
        }
        if task.lease_token is not None:
            # Without it, a result that comes late (the lease ran out and the task went to
            # another worker) could not be told from the new holder's.
            body["leaseToken"] = task.lease_token
        if reason is not None:
            body["reasonForIncompletion"] = _cut(reason)
        if callback_after_seconds is not None:
            body["callbackAfterSeconds"] = callback_after_seconds
        if log is not None:
            body["logs"] = [
                {"log": log, "taskId": task.task_id, "createdTime": int(time.time() * 1000)}
            ]
        try:
            content = encode_json(body)
        except TypeError as exc:
            # The handler returned something JSON cannot carry: fail the task and say so,
            # rather than crash the worker or leave the task to time out.
            return cls.build(
                task,
                worker_id,
                "FAILED",
                reason=f"TypeError: the output of {task.task_type} is not JSON-serializable: {exc}",
            )
        return cls(body=body, content=content)


async def _call(spec: WorkerTaskSpec, task: Task, executor: Executor | None) -> Any:
    args, kwargs = spec.arguments(task)
    if spec.is_async:
        return await spec.func(*args, **kwargs)
    loop = asyncio.get_running_loop()
    # In the task's context, so that a sync handler's log lines and spans know their task.
    call = functools.partial(contextvars.copy_context().run, spec.func, *args, **kwargs)
    value = await loop.run_in_executor(executor, call)
    if inspect.isawaitable(value):
        # A sync callable that hands back a coroutine (a partial of an async function, an
        # object with ``async def __call__``): finish it on the loop.
        value = await value
    return value


async def execute(
    spec: WorkerTaskSpec, task: Task, worker_id: str, executor: Executor | None = None
) -> TaskResult:
    """Run ``spec``'s handler on ``task`` and describe the outcome; never raises ``Exception``."""
    try:
        value = await _call(spec, task, executor)
    except TaskFailedError as exc:
        status = "FAILED_WITH_TERMINAL_ERROR" if exc.non_retryable else "FAILED"
        logger.info("task %s (%s) failed: %s", task.task_id, spec.name, exc.message)
        return TaskResult.build(task, worker_id, status, exc.output, reason=exc.message)
    except Exception as exc:
        text = str(exc)
        reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        logger.warning("task %s (%s) raised %s", task.task_id, spec.name, reason)
        log = "".join(traceback.format_exception(exc))
        return TaskResult.build(task, worker_id, "FAILED", reason=reason, log=log)
    if isinstance(value, TaskInProgress):
        return TaskResult.build(
            task,
            worker_id,
            "IN_PROGRESS",
            value.output,
            callback_after_seconds=value.callback_after_seconds,
        )
    return TaskResult.build(task, worker_id, "COMPLETED", output_of(value))
