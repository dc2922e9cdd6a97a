"""The OpenAPI document tells what each route can answer: its refusals and its media types.

FastAPI documents a route's 200 from its return annotation, and a 422 that Podium never sends
(invalid parameters answer 400, as every other bad input does). ``describe`` rewrites each
operation's responses in one place, from rules that hold for every route of a kind, so that
route modules need not repeat them:

- with authentication on, every route the gate guards (``auth.rules``) may answer 401 and
  403, 429 when keys are rate limited, and 503 (the gate reads keys from the store);
- a route that reads or writes the store may answer 503;
- a route with a parameter answers 400: any value may be refused (a NUL character in any
  path or query value, ``request_limits``), and so may a number or a bounded value; one that
  reads a JSON body answers 400 and 413;

and, from ``openapi_routes.ROUTES``, what the handler itself refuses with (404, 409, ...), its
successes and its media types. Every refusal is documented with the one body
``error_bodies`` and the gate answer (``ErrorBody``).
"""

from __future__ import annotations

import re
from typing import Any

from podium.auth.rules import Permission, required_permission
from podium.server.openapi_routes import ROUTES, Answers
from podium.server.schemas import ErrorBody, inline_schema
from podium.settings import Settings

__all__ = ["describe", "operations", "statuses"]

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_PLACEHOLDER = re.compile(r"\{[^}]+\}")
_REFUSALS = {
    400: "Bad input: a parameter or the body is not valid (``field`` names it); nothing was "
    "changed",
    401: "No valid credentials: an API key or a token from POST /api/token is required",
    403: "The key's roles (or task types) do not allow this request",
    404: "What the request names does not exist (``code`` says what)",
    409: "The request is valid but the current state forbids it (``code`` says why)",
    413: "The request body is over the server's limit; nothing was changed",
    429: "The key is over its rate limit; retry after ``Retry-After`` seconds",
    503: "The store failed; nothing was changed and the request may be retried",
}
_SUCCESS = {200: "Successful Response", 204: "Nothing to answer"}
_UI_PAGE = "/ui/"
_UI_OPERATION: dict[str, Any] = {
    "tags": ["ui"],
    "summary": "The web UI",
    "operationId": "ui_page",
    "responses": {},
}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(METHOD, path, operation)`` of every operation in ``document``."""
    return [
        (method.upper(), path, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in _METHODS
    ]


def _guarded(method: str, path: str) -> bool:
    # The gate sees concrete paths; any segment stands for a placeholder, since only whether
    # the route is open matters here, and every other permission is lacked by some role.
    concrete = _PLACEHOLDER.sub("x", path)
    return required_permission(method, concrete) != Permission.PUBLIC


def statuses(
    method: str, path: str, operation: dict[str, Any], answers: Answers, settings: Settings
) -> set[int]:
    """Every refusal the route can answer on a server with ``settings``."""
    if not settings.auth and answers.without_auth is not None:
        return set(answers.without_auth)
    found = set(answers.errors)
    if settings.auth and _guarded(method, path):
        found |= {401, 403, 503}  # 503: the gate looks keys up in the store
        if settings.rate_limit_per_key > 0:
            found.add(429)
    if answers.store:
        found.add(503)
    if operation.get("parameters"):
        found.add(400)  # a NUL in any path or query value (server/request_limits.py)
    if "requestBody" in operation:
        found.add(400)
        if not answers.raw_body:
            found.add(413)  # read_json's limit, PODIUM_MAX_PAYLOAD_BYTES
    return found


def _refusal(status: int, guarded: bool) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _REFUSALS[status],
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    text = {"schema": {"type": "string"}}
    if status == 429:
        response["headers"] = {"Retry-After": {**text, "required": True}}
    elif status == 401 and guarded:
        # The gate says how to authenticate; /api/token's own 401 (a wrong secret) does not.
        response["headers"] = {"WWW-Authenticate": {**text, "required": True}}
    return response


def _successes(operation: dict[str, Any], answers: Answers, settings: Settings) -> dict[str, Any]:
    if not settings.auth and answers.without_auth is not None:
        return {}
    generated = operation.get("responses", {}).get("200", {})
    found: dict[str, Any] = {}
    for status in answers.success:
        if status == 204:
            found["204"] = {"description": _SUCCESS[204]}
            continue
        response = {**generated, "description": generated.get("description", _SUCCESS[200])}
        if answers.media:
            response["content"] = answers.media
        found[str(status)] = response
    return found


def _document(
    method: str, path: str, operation: dict[str, Any], answers: Answers, settings: Settings
) -> None:
    responses = _successes(operation, answers, settings)
    guarded = settings.auth and _guarded(method, path)
    for status in sorted(statuses(method, path, operation, answers, settings)):
        responses[str(status)] = _refusal(status, guarded)
    operation["responses"] = responses


def describe(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``document`` (FastAPI's) with every operation's real answers; changed in place."""
    document.setdefault("paths", {})[_UI_PAGE] = {"get": dict(_UI_OPERATION)}
    for method, path, operation in operations(document):
        # A route not in the table (yet) gets what the rules derive; a unit test names it.
        _document(method, path, operation, ROUTES.get(f"{method} {path}", Answers()), settings)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's, for its 422
        schemas.pop(unused, None)
    schemas["Error"] = inline_schema(ErrorBody)
    return document
