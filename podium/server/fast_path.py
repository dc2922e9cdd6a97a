"""The worker hot path, served before FastAPI's routing.

Recording a result is most of what a server does under load. These routes are declared (and
documented) with FastAPI like every other; this middleware answers them directly, skipping route
matching and dependency resolution, which cost as much CPU per request as recording the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.dsl.bounds import INT4_MAX, INT4_MIN
from podium.errors import PodiumError, ValidationError
from podium.server import routes_tasks, routes_workflow
from podium.server.error_bodies import internal_error, podium_error

__all__ = ["FastPath"]

Handler = Callable[[Request], Awaitable[Response]]
_HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "/api/tasks/update-v2"): routes_tasks.update_task_v2,
    ("POST", "/api/tasks/update-batch"): routes_tasks.update_task_batch,
    ("POST", "/api/tasks"): routes_tasks.update_task,
}


_START_PREFIX = "/api/workflow/"


def _start_handler(path: str) -> Handler | None:
    """``POST /api/workflow/{name}``: starting a run by name, the other frequent request."""
    if not path.startswith(_START_PREFIX):
        return None
    name = path[len(_START_PREFIX) :]
    if not name or "/" in name:
        return None

    async def start(request: Request) -> Response:
        params = request.query_params
        raw_version = params.get("version")
        try:
            version = int(raw_version) if raw_version not in (None, "") else None
        except ValueError:
            raise ValidationError(
                f"version must be a whole number, not {raw_version!r}", field="version"
            ) from None
        if version is not None and not INT4_MIN <= version <= INT4_MAX:
            raise ValidationError(
                f"version {version} is past the largest a version may be ({INT4_MAX})",
                field="version",
            )
        raw_priority = params.get("priority") or "0"
        if not raw_priority.isdigit() or int(raw_priority) > 99:
            raise ValidationError(
                f"priority must be a whole number from 0 to 99, not {raw_priority!r}",
                field="priority",
            )
        return await routes_workflow.start_by_name(
            name,
            request,
            version=version,
            priority=int(raw_priority),
            correlationId=params.get("correlationId"),
            idempotencyKey=params.get("idempotencyKey"),
            idempotency_key_header=request.headers.get("idempotency-key"),
        )

    return start


class FastPath:
    """ASGI middleware: answers the hot routes itself, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = _HANDLERS.get((scope["method"], scope["path"]))
            if handler is None and scope["method"] == "POST":
                handler = _start_handler(scope["path"])
            if handler is not None:
                response = await self._handle(handler, Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _handle(handler: Handler, request: Request) -> Response:
        try:
            return await handler(request)
        except PodiumError as exc:
            return podium_error(exc)
        except Exception as exc:
            return internal_error(request, exc)
