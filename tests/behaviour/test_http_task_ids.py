"""HTTP tasks tell the service they call which trace, correlation and request they belong to."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from podium.observability.context import task_traceparent
from tests.behaviour.helpers import register, start, task_of, wait_status


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self):
        _Recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    _Recorder.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_task_sends_traceparent_correlation_and_request_ids(api, recorder):
    def call(ref: str, headers: dict[str, str]) -> dict[str, object]:
        request = {"uri": f"{recorder}/{ref}", "method": "GET", "headers": headers}
        return {
            "name": ref,
            "taskReferenceName": ref,
            "type": "HTTP",
            "inputParameters": {"http_request": request},
        }

    flow = {"name": "calls", "tasks": [call("plain", {}), call("own", {"X-Request-Id": "mine"})]}
    register(api, flow)
    run_id = start(api, "calls", correlationId="order-7")
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED", body
    plain, own = _Recorder.seen
    task_id = task_of(body, "plain")["taskId"]
    assert plain["traceparent"] == task_traceparent(run_id, task_id)
    assert plain["x-correlation-id"] == "order-7"
    assert plain["x-request-id"] == task_id
    assert (plain["x-podium-workflow-id"], plain["x-podium-task-id"]) == (run_id, task_id)
    assert own["x-request-id"] == "mine"  # the task's own header wins
