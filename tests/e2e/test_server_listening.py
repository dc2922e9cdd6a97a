"""The server says it listens once it does, and says plainly when its port is taken."""

from __future__ import annotations

import socket
import time

import httpx

from podium.server.main import serve
from podium.settings import Settings
from podium.testing import free_port
from tests.e2e.processes import spawn, stop


def test_listening_is_logged_once_requests_are_answered(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    server = spawn(["server", "--port", str(port), "--db", str(tmp_path / "p.db")], log)
    try:
        deadline = time.monotonic() + 30
        while "listening on" not in log.read_text():
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.01)
        # At once: no retry, no wait. The line came after the bind and the store's opening.
        answer = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
        assert answer.status_code == 200, answer.text
        assert f"http://127.0.0.1:{port}" in log.read_text()
    finally:
        stop(server)


def test_a_taken_port_stops_the_server_before_it_opens_its_store(tmp_path, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(database=str(tmp_path / "p.db"), port=port)
        try:
            serve(settings)
        except SystemExit as exc:
            assert exc.code == 1
        else:
            raise AssertionError("served on a taken port")
    assert f"port {port} on 127.0.0.1 is already in use" in caplog.text
    assert not (tmp_path / "p.db").exists()
