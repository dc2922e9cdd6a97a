"""Ids that follow work around: trace context, request ids, the ids a worker logs with."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.observability.context import (
    TraceParent,
    correlation_id_var,
    request_id_var,
    run_span_id,
    run_trace_id,
    task_id_var,
    task_span_id,
    task_traceparent,
    traceparent_var,
)
from podium.observability.logs import JsonFormatter
from podium.observability.tracing import exporter_from_env, tracing_enabled
from podium.server.request_context import RequestContext
from podium.server.views import run_json, task_json
from podium.worker.task import Task
from podium.worker.tracing import WorkerTracing

RUN = "8a4f1c3e-0d5b-4c7a-9e2f-6b1d0a3c5e7f"
TASK = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"


def test_ids_are_derived_from_run_and_task_ids_and_are_valid_w3c():
    header = task_traceparent(RUN, TASK)
    parsed = TraceParent.parse(header)
    assert parsed == TraceParent(run_trace_id(RUN), task_span_id(TASK), True)
    assert parsed.header() == header
    assert len(run_trace_id(RUN)) == 32 and len(task_span_id(TASK)) == 16
    # Every instance and worker computes the same ids; different work gets different ones.
    assert task_traceparent(RUN, TASK) == header
    assert run_span_id(RUN) != task_span_id(RUN)
    assert run_trace_id(RUN) != run_trace_id(RUN.replace("8", "9"))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "00-" + "0" * 32 + "-" + "1" * 16 + "-01",
        "00-" + "1" * 32 + "-" + "0" * 16 + "-01",
        "ff-" + "1" * 32 + "-" + "1" * 16 + "-01",
        "00-" + "1" * 31 + "-" + "1" * 16 + "-01",
    ],
)
def test_malformed_traceparent_is_ignored(header):
    assert TraceParent.parse(header) is None


def test_unsampled_flag_is_kept():
    parsed = TraceParent.parse("00-" + "a" * 32 + "-" + "b" * 16 + "-00")
    assert parsed is not None and not parsed.sampled
    assert parsed.header().endswith("-00")


def _run() -> tuple[RunState, TaskState]:
    task = TaskState(TASK, "pay", "pay", "SIMPLE", TaskStatus.SCHEDULED, 1, 1000, queue="pay")
    run = RunState(RUN, "order", 1, RunStatus.RUNNING, 1000, correlation_id="order-7")
    run.tasks.append(task)
    return run, task


def test_task_json_carries_the_traceparent_and_the_worker_reads_it():
    run, task = _run()
    body = task_json(run, task, None)
    assert body["traceparent"] == task_traceparent(RUN, TASK)
    assert body["correlationId"] == "order-7"
    seen = Task.from_json(body)
    assert (seen.traceparent, seen.correlation_id) == (body["traceparent"], "order-7")
    assert run_json(run, {})["traceId"] == run_trace_id(RUN)


def test_a_conductor_task_without_traceparent_still_parses():
    assert Task.from_json({"taskId": "t", "workflowInstanceId": "w"}).traceparent is None


def test_tracing_is_off_unless_otel_variables_ask_for_it():
    assert not tracing_enabled({})
    assert exporter_from_env({}) is None
    assert not tracing_enabled({"OTEL_TRACES_EXPORTER": "none"})
    assert tracing_enabled({"OTEL_TRACES_EXPORTER": "console"})
    assert tracing_enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert not tracing_enabled({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"})
    with pytest.raises(ValueError, match="zipkin"):
        exporter_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})


async def _echo_ids(scope, receive, send):
    body = json.dumps(
        [request_id_var.get(), correlation_id_var.get(), traceparent_var.get()]
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def test_every_request_gets_a_request_id_and_keeps_the_callers_ids():
    app = RequestContext(_echo_ids)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://podium"
    ) as client:
        fresh = await client.get("/")
        given = await client.get(
            "/",
            headers={
                "X-Request-Id": "req-1",
                "X-Correlation-Id": "order-7",
                "traceparent": task_traceparent(RUN, TASK),
            },
        )
    request_id = fresh.headers["x-request-id"]
    assert len(request_id) == 32 and fresh.json() == [request_id, None, None]
    assert given.headers["x-request-id"] == "req-1"
    assert given.json() == ["req-1", "order-7", task_traceparent(RUN, TASK)]
    assert request_id_var.get() is None  # nothing leaks out of the request


def test_json_log_lines_carry_the_ids_of_the_task_being_run():
    run, task = _run()
    worker_task = Task.from_json(task_json(run, task, None))
    formatter = JsonFormatter()
    record = logging.LogRecord("podium.worker", logging.INFO, __file__, 1, "charging", (), None)
    with WorkerTracing(None).task(worker_task, "w-1") as scope:
        line = json.loads(formatter.format(record))
        assert scope.traceparent is None  # tracing off: no span, no cost
    assert (line["workflowId"], line["taskId"], line["correlationId"]) == (RUN, TASK, "order-7")
    assert task_id_var.get() is None
    after = json.loads(formatter.format(record))
    assert "taskId" not in after and after["message"] == "charging"
