"""A long poll whose client has gone claims nothing: the task waits for the next poll, not for
a lease nobody holds to run out."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status

ONE = {"name": "departed", "version": 1, "tasks": [{"name": "job", "taskReferenceName": "job"}]}
LEASE = [{"name": "job", "retryCount": 0, "responseTimeoutSeconds": 60}]


def _park_a_poll_and_leave(url: str) -> None:
    """Send a long poll on a raw connection, let the server park it, then hang up."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    request = (
        "GET /api/tasks/poll/batch/job?workerid=gone&count=1&timeout=20000 HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n\r\n"
    )
    sock.sendall(request.encode())
    time.sleep(0.3)  # parked: it has looked at the empty queue and waits
    sock.close()
    time.sleep(0.2)  # the server has seen the connection close


def test_a_poll_whose_client_left_does_not_take_the_next_task(server, api):
    register(api, ONE, LEASE)
    _park_a_poll_and_leave(server.url)
    run_id = start(api, "departed")
    # Had the departed poll claimed it, this one would get nothing for a minute.
    [task] = poll(api, "job", worker="here", timeout_ms=5000)
    assert task["workerId"] == "here"
    assert task["pollCount"] == 1
    assert complete(api, task, {"ok": True}, worker="here").status_code == 200
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "job")["workerId"] == "here"
