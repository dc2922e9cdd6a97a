"""The JSON error answers, shared by the app's handlers and the fast path."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from podium.errors import PodiumError

__all__ = ["internal_error", "podium_error"]

log = logging.getLogger("podium.server")


def podium_error(exc: PodiumError) -> JSONResponse:
    """``{status, code, service, message[, field]}`` with the error's own HTTP status."""
    return JSONResponse(exc.to_dict(), status_code=exc.status_code)


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug of Podium's: logged with its traceback; the client learns whose fault it is."""
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    body = {
        "status": 500,
        "code": "E_INTERNAL",
        "service": "podium",
        "message": f"Podium itself failed ({type(exc).__name__}); nothing was changed. "
        "See the server log.",
        "retryable": True,
    }
    return JSONResponse(body, status_code=500)
