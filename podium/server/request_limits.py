"""What every request is held to before any route sees it: NUL-free path and query, and the
body limit, enforced while the body arrives rather than once it is all read.

A NUL character (``%00``) in the path or a query parameter is refused with 400: no name, id or
filter Podium stores can hold one (PostgreSQL's text columns refuse it), so both stores answer
alike, whatever route the request was for. A body that declares a ``Content-Length`` over the limit is refused before a byte of it is
read; a chunked one is counted as its chunks come and refused as soon as the count passes the
limit, so at most the limit and one chunk are ever held. The refusal closes the connection:
otherwise the server would go on reading (and dropping) the rest of an upload of any size.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podium.errors import PayloadTooLargeError, PodiumError, ValidationError
from podium.server.error_bodies import podium_error

__all__ = ["RequestLimits"]

_SETTING = "PODIUM_MAX_PAYLOAD_BYTES"
# Without it the server would read the rest of the body to the end (dropping it) to keep the
# connection alive for a next request: an upload of any size would still be taken in whole.
_CLOSE = (b"connection", b"close")


class _BodyTooLargeError(PayloadTooLargeError):
    """Raised inside ``receive``; carries no more than a PayloadTooLargeError does."""


class RequestLimits:
    """ASGI middleware: 400 for NUL in the path or query, 413 for a body over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _nul_in_target(scope)
        if problem is not None:
            await _answer(scope, send, problem)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            await _refuse(
                scope,
                send,
                f"the request body is {declared} bytes; the limit is {self.limit} ({_SETTING})",
            )
            return
        received = 0
        started = over = False

        async def counting_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise _BodyTooLargeError(
                        f"the request body is over {received} bytes already; the limit is "
                        f"{self.limit} ({_SETTING})",
                        service="server",
                        field="body",
                    )
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if over:
                    # Whoever answered the refusal, the rest of the body must not be read.
                    message["headers"] = [*message.get("headers", ()), _CLOSE]
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _BodyTooLargeError as exc:
            # Routes outside FastAPI's handlers (or code that catches PodiumError itself
            # and re-raises) may let it through; answer it here unless an answer began.
            if started:
                raise
            await _refuse(scope, send, exc.message)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _nul_in_target(scope: Scope) -> ValidationError | None:
    """A 400 naming where the request's path or query holds a NUL character, or None."""
    path: str = scope["path"]
    if "\x00" in path:
        return ValidationError(
            f"the path {path!r} may not contain the NUL character (%00)",
            service="server",
            field="path",
        )
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "")
            return ValidationError(
                f"the query parameter {field!r} may not contain the NUL character (%00)",
                service="server",
                field=field or "query",
            )
    return None


async def _refuse(scope: Scope, send: Send, message: str) -> None:
    await _answer(
        scope, send, PayloadTooLargeError(message, service="server", field="body"), close=True
    )


async def _answer(scope: Scope, send: Send, error: PodiumError, *, close: bool = False) -> None:
    response = podium_error(error)
    if close:
        response.raw_headers.append(_CLOSE)

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
