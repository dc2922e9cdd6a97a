"""JSON logs: one line per unit of work that changed something, with the ids to follow it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from podium.observability.context import run_trace_id, task_span_id
from podium.observability.logs import UNITS_LOGGER, JsonFormatter
from tests.behaviour.helpers import complete, poll, register, start, units_logged_to, wait_status

FLOW = {"name": "logged", "tasks": [{"name": "step", "taskReferenceName": "step"}]}


@pytest.fixture
def unit_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    with units_logged_to(handler):
        yield out


def test_each_unit_of_work_logs_one_json_line_with_its_ids(api, unit_lines):
    register(api, FLOW)
    started = api.post(
        "/api/workflow/logged",
        json={},
        headers={"X-Request-Id": "req-start", "X-Correlation-Id": "order-7"},
    )
    run_id = started.text
    (task,) = poll(api, "step")
    response = api.post(
        "/api/tasks",
        json={
            "taskId": task["taskId"],
            "workflowInstanceId": run_id,
            "status": "COMPLETED",
            "outputData": {},
            "workerId": "w1",
        },
        headers={"X-Request-Id": "req-done"},
    )
    assert response.status_code == 200
    wait_status(api, run_id)

    lines = [json.loads(line) for line in unit_lines.getvalue().splitlines()]
    by_request = {line.get("requestId"): line for line in lines}
    begun = by_request["req-start"]
    assert begun["unit"] == "start" and begun["correlationId"] == "order-7"
    assert begun["runs"] == [
        {
            "workflowId": run_id,
            "workflowType": "logged",
            "status": "RUNNING",
            "correlationId": "order-7",
        }
    ]
    done = by_request["req-done"]
    assert done["unit"] == "update" and done["level"] == "INFO"
    assert done["runs"][0]["status"] == "COMPLETED"
    (ended,) = done["tasks"]
    assert ended["taskId"] == task["taskId"] and ended["status"] == "COMPLETED"
    assert ended["traceId"] == run_trace_id(run_id)
    assert ended["spanId"] == task_span_id(task["taskId"])
    assert ended["correlationId"] == "order-7"
    assert done["durationMs"] >= 0
    claimed = [line for line in lines if line["unit"] == "poll"]
    assert claimed and claimed[0]["tasks"][0]["taskId"] == task["taskId"]


def test_json_logs_are_off_for_text_format(api, unit_lines):
    logging.getLogger(UNITS_LOGGER).setLevel(logging.WARNING)
    register(api, FLOW)
    run_id = start(api, "logged")
    (task,) = poll(api, "step")
    complete(api, task)
    wait_status(api, run_id)
    assert unit_lines.getvalue() == ""
