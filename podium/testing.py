"""Helpers for testing code that uses Podium: a real server on a free loopback port.

::

    with PodiumTestServer(tmp_path / "podium.db") as server:
        httpx.post(f"{server.url}/api/workflow/my_flow", json={...})
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from podium.observability.tracing import SpanEmitter
from podium.server.app import create_app
from podium.settings import Settings

__all__ = ["PodiumTestServer", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PodiumTestServer:
    """A Podium server in a background thread, on its own SQLite file."""

    def __init__(
        self, database: str | Path, *, spans: SpanEmitter | None = None, **settings: Any
    ) -> None:
        """``spans`` receives the server's spans (say, to an in-memory exporter)."""
        self.port = free_port()
        self.settings = replace(Settings(), database=str(database), port=self.port, **settings)
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(self.settings, spans=spans)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="podium-test-server")

    def start(self) -> PodiumTestServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)

    def __enter__(self) -> PodiumTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
