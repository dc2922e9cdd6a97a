"""Spans of a run across the server and a real worker process form one trace tree."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from podium.observability.context import run_span_id, run_trace_id, task_span_id
from podium.observability.tracing import SpanEmitter
from podium.testing import PodiumTestServer
from tests.e2e.processes import spawn, stop

FLOW = {
    "name": "traced_order",
    "tasks": [
        {
            "name": "trace_charge",
            "taskReferenceName": "charge",
            "type": "SIMPLE",
            "inputParameters": {"amount": "${workflow.input.amount}"},
        },
        {
            "name": "trace_ship",
            "taskReferenceName": "ship",
            "type": "SIMPLE",
            "inputParameters": {"charged": "${charge.output.charged}"},
        },
    ],
}
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def _console_spans(text: str) -> list[dict[str, Any]]:
    """The spans ConsoleSpanExporter printed (indented JSON objects) among log lines."""
    decoder = json.JSONDecoder()
    spans, at = [], 0
    while (at := text.find('{\n    "name"', at)) != -1:
        span, at = decoder.raw_decode(text, at)
        spans.append(span)
    return spans


def _hex(value: str | None) -> str | None:
    return value[2:] if value else None


def test_run_task_and_worker_spans_form_one_tree(tmp_path: Path):
    exporter = InMemorySpanExporter()
    emitter = SpanEmitter(exporter, service_name="podium-server", batch=False)
    log = tmp_path / "worker.log"
    with PodiumTestServer(tmp_path / "podium.db", spans=emitter) as server:
        api = httpx.Client(base_url=server.url, timeout=10)
        assert api.post("/api/metadata/workflow", json=FLOW).status_code == 200
        run_id = api.post(
            "/api/workflow/traced_order",
            json={"amount": 42},
            headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
        ).text
        worker = spawn(
            ["worker", "tests.e2e.trace_workers", "--server", server.url],
            log,
            env={"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "shop-worker"},
        )
        try:
            deadline = time.monotonic() + 30
            while (run := api.get(f"/api/workflow/{run_id}").json())["status"] == "RUNNING":
                assert time.monotonic() < deadline, run
                time.sleep(0.05)
        finally:
            stop(worker, signal.SIGTERM)
        assert run["status"] == "COMPLETED", run
        api.close()

    trace_id = run_trace_id(run_id)
    server_spans = {span.name: span for span in exporter.get_finished_spans()}
    caller = server_spans["start traced_order"]
    assert f"{caller.context.trace_id:032x}" == CALLER_TRACE
    assert f"{caller.parent.span_id:016x}" == CALLER_SPAN
    assert [f"{link.context.trace_id:032x}" for link in caller.links] == [trace_id]

    root = server_spans["run traced_order"]
    assert root.parent is None
    assert f"{root.context.trace_id:032x}" == trace_id
    assert f"{root.context.span_id:016x}" == run_span_id(run_id)
    tasks = {t["referenceTaskName"]: t for t in run["tasks"]}
    for ref, task in tasks.items():
        span = server_spans[f"task {ref}"]
        assert f"{span.context.trace_id:032x}" == trace_id
        assert f"{span.context.span_id:016x}" == task_span_id(task["taskId"])
        assert span.parent.span_id == root.context.span_id
        assert span.attributes["podium.task.status"] == "COMPLETED"
    children = [s for s in exporter.get_finished_spans() if s.name in ("queued", "running")]
    assert sorted(s.name for s in children) == ["queued", "queued", "running", "running"]
    task_span_ids = {server_spans[f"task {ref}"].context.span_id for ref in tasks}
    assert {s.parent.span_id for s in children} == task_span_ids

    # The worker process's spans continue from each task's span, in the same trace.
    worker_spans = {s["name"]: s for s in _console_spans(log.read_text())}
    assert worker_spans, log.read_text()
    for ref, task_type in (("charge", "trace_charge"), ("ship", "trace_ship")):
        span = worker_spans[f"worker {task_type}"]
        assert _hex(span["context"]["trace_id"]) == trace_id
        assert _hex(span["parent_id"]) == task_span_id(tasks[ref]["taskId"])
        assert span["resource"]["attributes"]["service.name"] == "shop-worker"
        assert span["attributes"]["podium.task.id"] == tasks[ref]["taskId"]
    handler_span = worker_spans["POST /shipments"]
    assert _hex(handler_span["context"]["trace_id"]) == trace_id
    assert handler_span["parent_id"] == worker_spans["worker trace_ship"]["context"]["span_id"]
