"""What a test server does with the requests it receives: record them, and fail, delay or drop
the ones a test asked it to.

``Traffic`` is an ASGI layer around the real app. A request carrying ``HELPER_HEADER`` (the
test server's own helper calls) passes through untouched, so a test's assertions see only the
requests of the code under test.
"""

from __future__ import annotations

import asyncio
import fnmatch
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["HELPER_HEADER", "Fault", "RecordedRequest", "Traffic"]

HELPER_HEADER = "x-podium-test-helper"
_HELPER = HELPER_HEADER.encode()

# The routes a worker posts its results to; their bodies are TaskResults.
_RESULT_ROUTES = ("/api/tasks/update-batch", "/api/tasks/update-v2", "/api/tasks")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received: its method, path and JSON body (None when empty,
    the raw text when it is not JSON)."""

    method: str
    path: str
    body: Any = None

    @property
    def results(self) -> list[dict[str, Any]]:
        """The TaskResults the request posted (several for ``update-batch``), else ``[]``."""
        if self.method != "POST" or self.path not in _RESULT_ROUTES:
            return []
        items = self.body if isinstance(self.body, list) else [self.body]
        return [item for item in items if isinstance(item, dict)]


@dataclass(slots=True)
class Fault:
    """A fault injected into the next ``times`` requests matching ``method`` and ``path``."""

    method: str
    path: str
    times: int | None  # None: every matching request, until cleared
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False
    drop_after_handling: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        return self.method in (method, "*") and fnmatch.fnmatchcase(path, self.path)


class Traffic:
    """Records requests and carries out injected faults; shared across server restarts."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        # Tests add faults from their own thread while the server's loop reads them.
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Forget every recorded request and injected fault."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def wrap(self, app: ASGIApp, on_start: Callable[[], None]) -> ASGIApp:
        """``app`` behind this layer; ``on_start`` runs in the server's loop at start-up."""

        async def layer(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                on_start()
                await app(scope, receive, send)
                return
            if scope["type"] != "http" or any(k == _HELPER for k, _ in scope["headers"]):
                await app(scope, receive, send)
                return
            await self._serve(app, scope, receive, send)

        return layer

    async def _serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = str(scope["method"]), str(scope["path"])
        read, whole = await _read_body(receive)
        raw = b"".join(m.get("body", b"") for m in read if m["type"] == "http.request")
        self.requests.append(RecordedRequest(method, path, _decode(raw) if whole else None))
        fault = self._take(method, path)
        if fault is not None and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault is not None and fault.drop and not fault.drop_after_handling:
            await _drop(send)
            return
        if fault is not None and fault.status is not None:
            await _answer(send, fault.status, fault.body)
            return
        replay = _replay(read, receive)
        if fault is not None and fault.drop_after_handling:
            # The server does the work and commits; only the answer is lost on the way.
            async def swallow(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await _drop(send)

            await app(scope, replay, swallow)
            return
        await app(scope, replay, send)


_RECORDED_BYTES = 1 << 20
"""A body is recorded up to this size: past it the rest streams to the app as it comes, so
that the server's own limits (a body refused before it is all read) act as they would."""


async def _read_body(receive: Receive) -> tuple[list[Message], bool]:
    """The messages of the body read so far, and whether that is all of it."""
    read: list[Message] = []
    size = 0
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return read, True
        size += len(message.get("body", b""))
        if size > _RECORDED_BYTES:
            return read, False


def _replay(read: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands the app the messages already read, then reads on."""
    waiting = list(read)

    async def again() -> Message:
        if waiting:
            return waiting.pop(0)
        return await receive()

    return again


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _drop(send: Send) -> None:
    # ASGI has no message to close a connection; a response promised but never finished
    # makes the server close it, so the client reads a connection cut mid-answer.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
    )
