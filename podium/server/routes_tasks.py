"""``/api/tasks``: the worker API (long poll, results) and task look-ups."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from podium.auth.scope import caller_id
from podium.engine.decider import SERVER_QUEUES
from podium.engine.domains import queue_name
from podium.errors import PodiumError, ValidationError
from podium.server import fencing
from podium.server.access import check_sync, check_task, check_task_id, task_check
from podium.server.error_bodies import internal_error_body
from podium.server.leases import requeue_tx
from podium.server.limits import check_task_output, settings_of
from podium.server.orchestrator import Claimed
from podium.server.poll_log import PollLog
from podium.server.requests import read_json, read_model, read_signal
from podium.server.results import Report
from podium.server.schemas import TaskResultBody, TaskResultItem, inline_schema
from podium.server.state import orchestrator_of
from podium.server.views import run_json, task_json
from podium.store.base import StoreTx

__all__ = ["router"]

log = logging.getLogger("podium.server")

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

_RESULT_BODY = {
    "content": {"application/json": {"schema": inline_schema(TaskResultBody)}},
    "required": True,
}
_MAX_BATCH = 100
_MAX_TRACEPARENT = 200  # as the header is cut in request_context


_BATCH_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": _MAX_BATCH,
    "items": inline_schema(TaskResultItem),
}
_BATCH_BODY = {"content": {"application/json": {"schema": _BATCH_SCHEMA}}, "required": True}
_BATCH_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One answer per result, in the request's order: the worker's next "
        "task (or null), or the error a single update-v2 would have answered",
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["taskId"],
                        "properties": {
                            "taskId": {"type": "string"},
                            "next": {"type": ["object", "null"]},
                            "error": {"type": "object"},
                        },
                    },
                }
            }
        },
    }
}
_OUTPUT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
_LOG_LINE = {"schema": {"type": "string", "minLength": 1}}
_LOG_BODY = {"content": {"application/json": _LOG_LINE, "text/plain": _LOG_LINE}}


def _claimed_json(claimed: Claimed) -> dict[str, Any]:
    # The lease's token goes to the worker that claimed it, and is shown nowhere else.
    return {
        **task_json(claimed.state, claimed.task, claimed.entry),
        "leaseToken": claimed.entry.lease_token,
    }


def _caller_key(request: Request) -> str:
    return caller_id(request.scope) or fencing.OPEN


def _lease_key(request: Request, require_token: bool) -> str | None:
    return fencing.lease_key(_caller_key(request), require_token)


def _check_queue(task_type: str) -> None:
    if task_type in SERVER_QUEUES:
        raise ValidationError(f"'{task_type}' is Podium's own queue", field="taskType")


def _log_poll(request: Request, queue: str, domain: str | None, worker_id: str | None) -> None:
    poll_log: PollLog = request.app.state.poll_log
    poll_log.record(queue, domain, worker_id or "anonymous", orchestrator_of(request).clock())


def _response(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


@router.get("/poll/batch/{task_type}")
async def batch_poll(
    task_type: str,
    request: Request,
    workerid: str | None = None,
    count: int = Query(default=1, ge=1, le=_MAX_BATCH),
    timeout: int = Query(default=100, ge=0),
    domain: str | None = None,
    requireLeaseToken: bool = False,
) -> Response:
    """Claim up to ``count`` tasks, waiting up to ``timeout`` ms for the first to arrive.

    Each task carries its lease's ``leaseToken``; with ``requireLeaseToken`` only a result
    that carries it back completes the lease (Podium's SDK asks for that)."""
    _check_queue(task_type)
    _log_poll(request, task_type, domain, workerid)
    limit = request.app.state.settings.max_poll_timeout_ms
    claimed = await orchestrator_of(request).poll(
        queue_name(task_type, domain),
        workerid or fencing.ANONYMOUS,
        count,
        min(timeout, limit),
        _lease_key(request, requireLeaseToken),
        gone=request.is_disconnected,
    )
    return _response([_claimed_json(c) for c in claimed])


@router.get("/poll/{task_type}")
async def poll_one(
    task_type: str,
    request: Request,
    workerid: str | None = None,
    domain: str | None = None,
    requireLeaseToken: bool = False,
) -> Response:
    """Claim one task if one is queued now; 204 when none is."""
    _check_queue(task_type)
    _log_poll(request, task_type, domain, workerid)
    claimed = await orchestrator_of(request).poll(
        queue_name(task_type, domain),
        workerid or fencing.ANONYMOUS,
        1,
        0,
        _lease_key(request, requireLeaseToken),
    )
    if not claimed:
        return Response(status_code=204)
    return _response(_claimed_json(claimed[0]))


async def _apply(
    request: Request, body: TaskResultBody, *, next_for_worker: bool
) -> Claimed | None:
    orchestrator = orchestrator_of(request)
    claimed = await orchestrator.record(_report(request, body, next_for_worker=next_for_worker))
    if claimed is not None:
        # A worker handed its next task never polls for it: its queue is served all the same.
        poll_log: PollLog = request.app.state.poll_log
        poll_log.note_served(claimed.entry.queue, orchestrator.clock())
    return claimed


async def _record(
    request: Request, *, next_for_worker: bool
) -> tuple[TaskResultBody, Claimed | None]:
    body = read_model(TaskResultBody, await read_json(request))
    return body, await _apply(request, body, next_for_worker=next_for_worker)


@router.post("", response_class=PlainTextResponse, openapi_extra={"requestBody": _RESULT_BODY})
async def update_task(request: Request) -> PlainTextResponse:
    """Record a worker's result (Conductor's TaskResult); answers the task id."""
    body, _ = await _record(request, next_for_worker=False)
    return PlainTextResponse(body.taskId)


@router.post("/update-v2", openapi_extra={"requestBody": _RESULT_BODY})
async def update_task_v2(request: Request) -> Response:
    """Record a result and hand the same worker its next task of that type (204 if none)."""
    _, claimed = await _record(request, next_for_worker=True)
    if claimed is None:
        return Response(status_code=204)
    return _response(_claimed_json(claimed))


def _read_batch(data: Any) -> list[TaskResultItem]:
    """Every item validated before any is recorded: a bad one refuses the whole request."""
    if not isinstance(data, list):
        raise ValidationError("the body must be a JSON array of task results", field="body")
    if not 1 <= len(data) <= _MAX_BATCH:
        raise ValidationError(
            f"the body holds {len(data)} task results; it must hold 1 to {_MAX_BATCH}",
            field="body",
        )
    return [read_model(TaskResultItem, item, f"[{i}]") for i, item in enumerate(data)]


def _report(
    request: Request,
    body: TaskResultBody,
    *,
    next_for_worker: bool,
    traceparent: str | None = None,
) -> Report:
    """The result as the orchestrator records it, its output checked first."""
    check_task_output(settings_of(request), body.taskId, body.outputData)
    return Report(
        body.taskId,
        body.status,
        output=body.outputData,
        reason=body.reasonForIncompletion,
        worker_id=body.workerId,
        callback_after_s=body.callbackAfterSeconds,
        logs=tuple(body.logs),
        next_for_worker=next_for_worker,
        extend_lease=body.extendLease,
        lease_token=body.leaseToken,
        caller_key=_caller_key(request),
        check=task_check(request),
        traceparent=traceparent,
    )


def _item_answer(item: TaskResultItem, outcome: Claimed | BaseException | None) -> dict[str, Any]:
    if isinstance(outcome, PodiumError):
        return {"taskId": item.taskId, "error": outcome.to_dict()}
    if isinstance(outcome, Exception):
        log.error("unexpected error recording task %s", item.taskId, exc_info=outcome)
        return {"taskId": item.taskId, "error": internal_error_body(outcome)}
    if isinstance(outcome, BaseException):
        raise outcome
    return {"taskId": item.taskId, "next": _claimed_json(outcome) if outcome else None}


@router.post("/update-batch", openapi_extra={"requestBody": _BATCH_BODY}, responses=_BATCH_ANSWER)
async def update_task_batch(request: Request) -> Response:
    """Podium's extension of update-v2: record up to 100 results in one request.

    Each result is recorded as update-v2 would record it, and one that is refused leaves the
    others recorded. The results of one run go in one unit of work, which reads and writes the
    run once (the branches of a fan-out); the units of different runs are submitted together,
    so SQLite commits them together and PostgreSQL runs them side by side.
    """
    items = _read_batch(await read_json(request))
    outcomes: list[Claimed | Exception | None] = [None] * len(items)
    reports: list[Report] = []
    taken: list[int] = []
    for i, item in enumerate(items):
        try:
            traceparent = item.traceparent[:_MAX_TRACEPARENT] if item.traceparent else None
            reports.append(_report(request, item, next_for_worker=True, traceparent=traceparent))
        except PodiumError as exc:
            outcomes[i] = exc
        else:
            taken.append(i)
    orchestrator = orchestrator_of(request)
    for i, outcome in zip(taken, await orchestrator.record_batch(reports), strict=True):
        outcomes[i] = outcome
        if isinstance(outcome, Claimed):
            poll_log: PollLog = request.app.state.poll_log
            poll_log.note_served(outcome.entry.queue, orchestrator.clock())
    return _response([_item_answer(i, o) for i, o in zip(items, outcomes, strict=True)])


@router.get("/queue/sizes")
async def queue_sizes(
    request: Request,
    taskType: Annotated[list[str] | None, Query()] = None,
) -> dict[str, int]:
    store = orchestrator_of(request).store
    sizes: dict[str, int] = await store.read(lambda tx: tx.queue_sizes(taskType))
    for queue in SERVER_QUEUES:
        sizes.pop(queue, None)
    return sizes


@router.get("/queue/size")
async def queue_size(request: Request, taskType: str, domain: str | None = None) -> int:
    """How many tasks of ``taskType`` wait to be claimed in ``domain`` (none: the type's own
    queue), as Conductor counts its ``domain:type`` queue."""
    _check_queue(taskType)
    queue = queue_name(taskType, domain)
    sizes = await queue_sizes(request, [queue])
    return sizes.get(queue, 0)


@router.get("/queue/polldata")
async def poll_data(request: Request, taskType: str) -> list[dict[str, Any]]:
    """When each worker last polled the queue of ``taskType`` (since the server started)."""
    poll_log: PollLog = request.app.state.poll_log
    return poll_log.entries(taskType)


@router.get("/queue/polldata/all")
async def all_poll_data(request: Request) -> list[dict[str, Any]]:
    poll_log: PollLog = request.app.state.poll_log
    return poll_log.entries()


@router.get("/queue/all")
async def queue_all(request: Request) -> dict[str, int]:
    """Every worker queue with its size (Conductor's ``queue/all``)."""
    return await queue_sizes(request, None)


@router.get("/queue/all/verbose")
async def queue_all_verbose(request: Request) -> dict[str, dict[str, dict[str, int]]]:
    """Conductor's ``{queue: {shard: {size, uacked}}}``: each worker queue's waiting tasks
    and those claimed but not yet answered. Podium's queues are not sharded: one shard, ``a``."""

    def unit(tx: StoreTx) -> dict[str, dict[str, dict[str, int]]]:
        sizes = tx.queue_sizes(None)
        for queue in SERVER_QUEUES:
            sizes.pop(queue, None)
        return {q: {"a": {"size": n, "uacked": tx.count_leased(q)}} for q, n in sizes.items()}

    store = orchestrator_of(request).store
    found: dict[str, dict[str, dict[str, int]]] = await store.read(unit)
    return found


@router.post("/queue/requeue/{task_type}", response_class=PlainTextResponse)
async def requeue(task_type: str, request: Request) -> PlainTextResponse:
    """Push the type's pending tasks back on their queues, claimed ones included, and answer
    how many, as Conductor does (``leases.requeue_tx``)."""
    _check_queue(task_type)
    orchestrator = orchestrator_of(request)
    count, queues = await orchestrator.store.write(lambda tx: requeue_tx(tx, task_type))
    for queue in queues:
        orchestrator.heard_ready(queue)  # wake this instance's long polls
    return PlainTextResponse(str(count))


async def _signal(
    workflow_id: str, ref: str, status: str, request: Request, workerid: str | None
) -> str:
    task_status, output = await read_signal(request, status)
    check_task_output(settings_of(request), f"'{ref}' of workflow {workflow_id}", output)
    return await orchestrator_of(request).signal(
        workflow_id,
        ref,
        task_status,
        output,
        worker_id=workerid,
        caller_key=_caller_key(request),
        check=task_check(request),
    )


@router.post(
    "/{workflow_id}/{ref}/{status}",
    response_class=PlainTextResponse,
    openapi_extra={"requestBody": _OUTPUT_BODY},
)
async def update_by_ref(
    workflow_id: str, ref: str, status: str, request: Request, workerid: str | None = None
) -> PlainTextResponse:
    """Finish the task ``ref`` of a run from outside: how a WAIT task is signalled."""
    return PlainTextResponse(await _signal(workflow_id, ref, status, request, workerid))


@router.post("/{workflow_id}/{ref}/{status}/sync", openapi_extra={"requestBody": _OUTPUT_BODY})
async def update_by_ref_sync(
    workflow_id: str, ref: str, status: str, request: Request, workerid: str | None = None
) -> dict[str, Any]:
    """As ``update_by_ref``, answering the run as it stands after the update."""
    check_sync(request)
    await _signal(workflow_id, ref, status, request, workerid)
    view = await orchestrator_of(request).get_run(workflow_id)
    return run_json(view.state, view.entries)


@router.get("/{task_id}/log")
async def get_logs(task_id: str, request: Request) -> list[dict[str, Any]]:
    """The task's log lines (Conductor's ``TaskExecLog``), oldest first."""
    _, task = await orchestrator_of(request).find_task(task_id)
    check_task(request, task)
    return task.logs


@router.post("/{task_id}/log", openapi_extra={"requestBody": _LOG_BODY})
async def add_log(task_id: str, request: Request) -> Response:
    """Add a log line; the body is the line, as raw text or a JSON string."""
    raw = await request.body()
    line: Any = raw.decode("utf-8", errors="replace")
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # the SDK sends a plain string as raw text
    if isinstance(line, dict) and isinstance(line.get("log"), str):
        line = line["log"]
    if not isinstance(line, str) or not line.strip():
        raise ValidationError("the body must be a non-empty log line", field="body")
    limit: int = request.app.state.settings.max_payload_bytes
    if len(raw) > limit:
        raise ValidationError(f"the log line is over {limit} bytes", field="body")
    await check_task_id(request, task_id)
    await orchestrator_of(request).add_task_log(task_id, line)
    return Response(status_code=204)


@router.get("/{task_id}")
async def get_task(task_id: str, request: Request) -> dict[str, Any]:
    view, task = await orchestrator_of(request).find_task(task_id)
    check_task(request, task)
    return task_json(view.state, task, view.entries.get(task_id), view.blames.get(task_id))
