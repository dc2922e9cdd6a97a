"""The JSON error answers, shared by the app's handlers and the fast path."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from podium.errors import PodiumError, StoreError

__all__ = ["internal_error", "internal_error_body", "podium_error"]

log = logging.getLogger("podium.server")


def podium_error(exc: PodiumError) -> JSONResponse:
    """``{status, code, service, message[, field]}`` with the error's own HTTP status; a
    store's failure says when to come back (``Retry-After``), as load balancers expect."""
    headers = None
    if isinstance(exc, StoreError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


def internal_error_body(exc: Exception) -> dict[str, object]:
    """What the client learns of a bug of Podium's: whose fault it is, not the traceback."""
    return {
        "status": 500,
        "code": "E_INTERNAL",
        "service": "podium",
        "message": f"Podium itself failed ({type(exc).__name__}); nothing was changed. "
        "See the server log.",
        "retryable": True,
    }


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug of Podium's: logged with its traceback; the client learns whose fault it is."""
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(internal_error_body(exc), status_code=500)
