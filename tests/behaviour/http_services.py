"""A local HTTP service for HTTP-task tests: it records every request and can redirect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class EchoService:
    """``url``: where it listens; ``redirects``: path -> (status, Location) to answer with."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    redirects: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def _handler(service: EchoService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            headers = {k.lower(): v for k, v in self.headers.items()}
            service.seen.append(Seen(self.command, self.path, headers, body))
            redirect = service.redirects.get(self.path)
            if redirect is not None:
                self.send_response(redirect[0])
                self.send_header("Location", redirect[1])
                self.send_header("content-length", "0")
                self.end_headers()
                return
            # Only the path is answered: what the service saw stays out of the run's history.
            data = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def echo_service() -> Iterator[EchoService]:
    service = EchoService()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    service.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        httpd.shutdown()
        httpd.server_close()


def http_flow(name: str, request: dict[str, Any], before: list[dict[str, Any]] | None = None):
    """A workflow of ``before`` (steps) and then one HTTP step ``call`` making ``request``."""
    call = {
        "name": "call",
        "taskReferenceName": "call",
        "type": "HTTP",
        "inputParameters": {"http_request": request},
    }
    return {"name": name, "tasks": [*(before or []), call]}
