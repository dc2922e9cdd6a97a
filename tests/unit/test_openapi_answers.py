"""The OpenAPI document declares what each route really answers: refusals and media types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podium.server.app import create_app
from podium.server.openapi import operations
from podium.server.openapi_routes import ROUTES
from podium.settings import Settings


def _document(tmp_path: Path, **settings: Any) -> dict[str, Any]:
    # Building the document opens nothing: the store is opened by the app's lifespan.
    app = create_app(Settings(database=str(tmp_path / "podium.db"), **settings))
    document: dict[str, Any] = app.openapi()
    return document


@pytest.fixture
def open_doc(tmp_path: Path) -> dict[str, Any]:
    return _document(tmp_path)


@pytest.fixture
def locked_doc(tmp_path: Path) -> dict[str, Any]:
    return _document(tmp_path, auth=True)


def _responses(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method.lower()]["responses"]
    return found


def _codes(document: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(code) for code in _responses(document, method, path)}


def _media(document: dict[str, Any], method: str, path: str, status: int = 200) -> set[str]:
    return set(_responses(document, method, path)[str(status)].get("content", {}))


def test_every_route_states_its_answers_and_no_entry_is_stale(open_doc):
    documented = {f"{method} {path}" for method, path, _ in operations(open_doc)}
    assert sorted(documented - ROUTES.keys()) == [], "add these routes to openapi_routes.ROUTES"
    assert sorted(ROUTES.keys() - documented) == [], "these ROUTES entries name no route"


def test_starting_a_run_by_name_declares_its_refusals_with_auth_on(locked_doc, open_doc):
    path = "/api/workflow/{name}"
    assert _codes(locked_doc, "POST", path) == {200, 400, 401, 403, 404, 413, 503}
    # Without authentication the gate refuses nothing.
    assert _codes(open_doc, "POST", path) == {200, 400, 404, 413, 503}
    assert _media(locked_doc, "POST", path) == {"text/plain"}
    for status in (400, 401, 403, 404):
        assert _media(locked_doc, "POST", path, status) == {"application/json"}


def test_no_route_declares_fastapis_422_and_every_refusal_has_the_error_body(locked_doc):
    schemas = locked_doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"status", "code", "service", "message", "retryable"} <= set(
        schemas["Error"]["required"]
    )
    for method, path, operation in operations(locked_doc):
        for code, response in operation["responses"].items():
            assert code != "422", (method, path)
            if int(code) >= 400:
                content = response["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path)


def test_open_routes_are_not_said_to_need_a_key(locked_doc):
    assert _codes(locked_doc, "GET", "/api/health") == {200, 503}
    assert _codes(locked_doc, "GET", "/api/health/live") == {200}
    assert _codes(locked_doc, "GET", "/ui/") == {200}
    # A wrong secret is its own 401; the token route is open, so never 403.
    assert _codes(locked_doc, "POST", "/api/token") == {200, 400, 401, 413, 503}
    headers = _responses(locked_doc, "POST", "/api/token")["401"].get("headers", {})
    assert "WWW-Authenticate" not in headers


def test_guarded_routes_declare_the_gates_refusals_and_429_only_when_keys_are_limited(
    tmp_path, locked_doc
):
    for method, path, operation in operations(locked_doc):
        if path.startswith("/api/health") or path in ("/api/token", "/ui/"):
            continue
        codes = {int(code) for code in operation["responses"]}
        assert {401, 403} <= codes, (method, path)
        assert 429 not in codes, (method, path)
    limited = _document(tmp_path, auth=True, rate_limit_per_key=5)
    refusal = _responses(limited, "GET", "/api/workflow/search")["429"]
    assert refusal["headers"]["Retry-After"]["required"] is True
    assert (
        "WWW-Authenticate" in _responses(limited, "GET", "/api/workflow/search")["401"]["headers"]
    )


def test_the_token_route_answers_only_404_with_auth_off(open_doc):
    assert _codes(open_doc, "POST", "/api/token") == {404}


def test_refusals_follow_what_a_route_takes(open_doc):
    # A path id that names nothing: 404; one holding a NUL character: 400.
    assert _codes(open_doc, "GET", "/api/workflow/{workflow_id}") == {200, 400, 404, 503}
    # Numbers in the query can be invalid, and the route never answers 404.
    assert _codes(open_doc, "GET", "/api/workflow/running/{name}") == {200, 400, 503}
    # A run's state can forbid the action.
    assert 409 in _codes(open_doc, "PUT", "/api/workflow/{workflow_id}/pause")
    # The poll log lives in memory: no store, no 503; its taskType is required.
    assert _codes(open_doc, "GET", "/api/tasks/queue/polldata") == {200, 400}
    # The log line is read as it is and its size checked by the route: 400, never 413.
    assert _codes(open_doc, "POST", "/api/tasks/{task_id}/log") == {204, 400, 404, 503}


def test_successes_and_media_types_are_the_real_ones(open_doc):
    assert _codes(open_doc, "PUT", "/api/workflow/decide/{workflow_id}") == {204, 400, 404, 503}
    assert {200, 204} <= _codes(open_doc, "POST", "/api/tasks/update-v2")
    assert {200, 204} <= _codes(open_doc, "GET", "/api/tasks/poll/{task_type}")
    assert "content" not in _responses(open_doc, "GET", "/api/tasks/poll/{task_type}")["204"]
    assert _media(open_doc, "GET", "/metrics") == {"text/plain"}
    assert _media(open_doc, "GET", "/ui/") == {"text/html"}
    assert _media(open_doc, "GET", "/api/contracts/catalogue") == {"text/markdown", "text/html"}
    assert _media(open_doc, "POST", "/api/tasks") == {"text/plain"}
    assert _media(open_doc, "GET", "/api/workflow/{workflow_id}") == {"application/json"}


def test_routes_that_read_a_body_document_it(open_doc):
    for method, path in [
        ("POST", "/api/workflow"),
        ("POST", "/api/workflow/execute/{name}/{version}"),
        ("POST", "/api/workflow/{workflow_id}/rerun"),
        ("PUT", "/api/workflow/{workflow_id}/skiptask/{task_reference_name}"),
        ("POST", "/api/workflow/correlated/batch"),
        ("POST", "/api/keys"),
    ]:
        operation = open_doc["paths"][path][method.lower()]
        assert "application/json" in operation["requestBody"]["content"], (method, path)
        assert {400, 413} <= _codes(open_doc, method, path), (method, path)
    start = open_doc["paths"]["/api/workflow"]["post"]["requestBody"]["content"]
    assert start["application/json"]["schema"]["required"] == ["name"]
    log = open_doc["paths"]["/api/tasks/{task_id}/log"]["post"]["requestBody"]["content"]
    assert set(log) == {"application/json", "text/plain"}
