"""Request ids: every request gets one (the caller's ``X-Request-Id``, or a new one).

The id, the caller's ``X-Correlation-Id`` and its W3C ``traceparent`` are kept in context
variables for the request's logs, spans and the runs it starts; the id is sent back as
``X-Request-Id``. A plain ASGI middleware: it wraps the worker hot path too.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podium.observability.context import (
    correlation_id_var,
    new_request_id,
    request_id_var,
    traceparent_var,
)

__all__ = ["RequestContext"]

_MAX_ID = 200


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = correlation = traceparent = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value[:_MAX_ID].decode("latin-1")
            elif name == b"x-correlation-id":
                correlation = value[:_MAX_ID].decode("latin-1")
            elif name == b"traceparent":
                traceparent = value[:_MAX_ID].decode("latin-1")
        request_id = request_id or new_request_id()
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        tokens = (
            request_id_var.set(request_id),
            correlation_id_var.set(correlation),
            traceparent_var.set(traceparent),
        )
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            traceparent_var.reset(tokens[2])
            correlation_id_var.reset(tokens[1])
            request_id_var.reset(tokens[0])
