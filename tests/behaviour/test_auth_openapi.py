"""With authentication on, what every route answers a caller it refuses is in ``/openapi.json``.

Each operation the document lists is called without a key, with a key whose secret is wrong,
and with a worker key limited to one task type; every status answered must be declared for
that path and method, with the media type it came in. The document is derived from rules
(``server/openapi.py``) and a table (``openapi_routes.ROUTES``); this checks them against
the gate and the handlers as they answer.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from podium.server.openapi import operations
from tests.behaviour.helpers import bearer, key_clients, make_keys, register, run, start, task_of

_KEYS = {
    "admin": {"roles": ["admin"]},
    "limited": {"roles": ["worker"], "taskTypes": ["pay"]},
}
PAY = {"name": "pay_flow", "tasks": [{"name": "pay", "taskReferenceName": "pay"}]}
SHIP = {"name": "ship_flow", "tasks": [{"name": "ship", "taskReferenceName": "ship"}]}
_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


@pytest.fixture
def made(store_choice) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The keys, and path values naming a run and task of a type the worker key may not
    touch, so that the handlers' own 403 (``auth/scope.py``) is answered, not only the gate's."""
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        register(api, PAY)
        register(api, SHIP)
        run_id = start(api, "ship_flow")
        task_id = task_of(run(api, run_id), "ship")["taskId"]
        values = {
            "workflow_id": run_id,
            "task_id": task_id,
            "ref": "ship",
            "task_type": "ship",
            "name": "ship_flow",
            "version": "1",
            "status": "COMPLETED",
            "kind": "workflow",
        }
        return make_keys(api, _KEYS), values


@pytest.fixture
def locked(store_choice, made):
    with store_choice.server(auth=True) as server:
        yield server


def _call(
    client: httpx.Client, method: str, path: str, operation: dict[str, Any], values: dict[str, str]
) -> httpx.Response:
    concrete = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), "x"), path)
    body: dict[str, Any] = {"json": {}} if "requestBody" in operation else {}
    result = {"taskId": values["task_id"], "workflowInstanceId": values["workflow_id"]}
    result |= {"status": "COMPLETED", "workerId": "w", "outputData": {"by": "intruder"}}
    # Bodies that get past reading, so that the handler's check of the task's type answers.
    body = {
        "POST /api/tasks": {"json": result},
        "POST /api/tasks/update-v2": {"json": result},
        "POST /api/tasks/update-batch": {"json": [result]},
        "POST /api/tasks/{task_id}/log": {"content": b"forged line"},
    }.get(f"{method} {path}", body)
    # A long poll the gate lets through must not wait: ask for no wait at all.
    params = {"timeout": 0} if "/poll" in path else {}
    return client.request(method, concrete, params=params, **body)


def _undeclared(
    answer: httpx.Response, method: str, path: str, operation: dict[str, Any]
) -> str | None:
    """What about ``answer`` the document does not declare, or None."""
    declared = operation["responses"].get(str(answer.status_code))
    if declared is None:
        listed = sorted(operation["responses"])
        return f"{method} {path}: {answer.status_code} is not declared (only {listed}): {answer.text[:200]}"
    media = answer.headers.get("content-type", "").split(";")[0].strip()
    content = declared.get("content")
    if not content:
        if answer.content:
            return f"{method} {path}: {answer.status_code} declares no body but answered {media}"
        return None
    if media not in content:
        return (
            f"{method} {path}: {answer.status_code} came as {media!r}, declared {sorted(content)}"
        )
    return None


def test_every_refusal_of_a_caller_without_rights_is_declared_for_its_route(locked, made):
    keys, values = made
    with key_clients(locked.url, keys) as as_key:
        document = as_key("admin").get("/openapi.json").json()
        forged = {**keys["limited"], "keySecret": "not-the-secret"}
        callers = {
            "no key": httpx.Client(base_url=locked.url, timeout=30),
            "wrong secret": httpx.Client(base_url=locked.url, headers=bearer(forged), timeout=30),
            "worker for pay only": as_key("limited"),
        }
        problems: list[str] = []
        seen: dict[str, set[int]] = {name: set() for name in callers}
        scoped: list[str] = []  # routes whose handler refused the task type itself
        try:
            for method, path, operation in operations(document):
                for name, client in callers.items():
                    answer = _call(client, method, path, operation, values)
                    seen[name].add(answer.status_code)
                    # The key's only type named in a 403: the handler refused the task's type.
                    if answer.status_code == 403 and "pay" in answer.json()["message"]:
                        scoped.append(f"{method} {path}")
                    problem = _undeclared(answer, method, path, operation)
                    if problem is not None:
                        problems.append(f"[{name}] {problem}")
        finally:
            callers["no key"].close()
            callers["wrong secret"].close()
    assert not problems, "\n".join(problems)
    # The callers were refused as meant: the check covered the gate's 401 and 403 answers.
    assert 401 in seen["no key"] and 401 in seen["wrong secret"]
    assert 403 in seen["worker for pay only"]
    assert len(scoped) >= 6, scoped
    # Nothing a refused caller sent changed the run.
    with key_clients(locked.url, keys) as as_key:
        held = task_of(run(as_key("admin"), values["workflow_id"]), "ship")
    assert held["status"] == "SCHEDULED" and held["outputData"] == {}
    assert len(operations(document)) > 80


def test_the_gates_refusals_carry_the_headers_the_document_declares(locked, made):
    with key_clients(locked.url, made[0]) as as_key:
        document = as_key("admin").get("/openapi.json").json()
        with httpx.Client(base_url=locked.url, timeout=30) as anonymous:
            answer = anonymous.get("/api/workflow/search")
    assert answer.status_code == 401
    declared = document["paths"]["/api/workflow/search"]["get"]["responses"]["401"]
    for header, spec in declared.get("headers", {}).items():
        assert not spec.get("required") or header.lower() in answer.headers, (header, answer)
    assert answer.json()["status"] == 401 and answer.json()["code"]


def test_a_rate_limited_keys_429_is_declared_with_its_retry_after(store_choice, made):
    keys, _ = made
    with store_choice.server(auth=True, rate_limit_per_key=1) as server:
        with key_clients(server.url, keys) as as_key:
            admin = as_key("admin")
            document = admin.get("/openapi.json").json()
            answers = [admin.get("/api/metadata/workflow") for _ in range(4)]
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited, [answer.status_code for answer in answers]
    operation = document["paths"]["/api/metadata/workflow"]["get"]
    assert _undeclared(limited[0], "GET", "/api/metadata/workflow", operation) is None
    declared = operation["responses"]["429"]["headers"]
    assert all(name.lower() in limited[0].headers for name in declared)
