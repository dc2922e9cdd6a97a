"""``PodiumClient``: a small typed client of Podium's (Conductor-compatible) REST API.

::

    with PodiumClient("http://127.0.0.1:8080") as podium:
        run_id = podium.start_workflow("order", {"sku": "A-1"})
        run = podium.wait_for(run_id, timeout=30)
        print(run["status"], run["output"])

Every non-2xx answer raises ``PodiumClientError`` carrying the server's ``code`` and
``service``; a server that cannot be reached raises ``PodiumUnreachableError``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from podium.client_events import EventsApi
from podium.client_schedules import SchedulesApi
from podium.errors import PodiumError

__all__ = [
    "DEFAULT_SERVER",
    "TERMINAL_STATUSES",
    "PodiumClient",
    "PodiumClientError",
    "PodiumUnreachableError",
    "api_root",
]

DEFAULT_SERVER = "http://127.0.0.1:8080"
TERMINAL_STATUSES = frozenset(
    {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED", "COMPENSATED", "COMPENSATION_FAILED"}
)
"""Workflow statuses a run never leaves by itself (``retry``/``restart`` can reopen it)."""


def api_root(url: str) -> str:
    """The server's root URL: ``http://h:8080`` and Conductor-style ``http://h:8080/api`` alike."""
    return url.rstrip("/").removesuffix("/api")


def _segment(value: str) -> str:
    return quote(value, safe="")


def _warnings(response: httpx.Response) -> list[str]:
    """The ``warnings`` of a registration's answer; none from a server that sends none
    (Conductor answers with an empty body)."""
    try:
        body = response.json()
    except ValueError:
        return []
    found = body.get("warnings") if isinstance(body, dict) else None
    return [str(w) for w in found] if isinstance(found, list) else []


class PodiumClientError(PodiumError):
    """The server answered with an error (or could not be reached)."""

    def __init__(
        self,
        status: int,
        code: str,
        service: str,
        message: str,
        *,
        field: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, service=service, field=field, code=code)
        self.status = status
        self.status_code = status
        self.body = body

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"HTTP {self.status} {self.code} from {self.service}: {self.message}{where}"

    @classmethod
    def from_response(cls, response: httpx.Response) -> PodiumClientError:
        """Read Podium's ``{status, code, service, message}`` body, or make do with any other."""
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("code" in body or "message" in body):
            return cls(
                response.status_code,
                str(body.get("code") or f"E_HTTP_{response.status_code}"),
                str(body.get("service") or "server"),
                str(body.get("message") or ""),
                field=str(body["field"]) if body.get("field") else None,
                body=body,
            )
        # Not Podium's error shape: a FastAPI ``{"detail": ...}``, a proxy's HTML page...
        detail = body.get("detail") if isinstance(body, dict) else None
        text = (
            detail
            if detail is not None
            else (response.text.strip()[:500] or response.reason_phrase)
        )
        return cls(
            response.status_code,
            f"E_HTTP_{response.status_code}",
            "server",
            f"{response.request.method} {response.request.url.path}: {text}",
            body=body,
        )


class PodiumUnreachableError(PodiumClientError):
    """No answer from the server at all: it is down, or the URL is wrong."""

    def __init__(self, url: str, cause: Exception) -> None:
        super().__init__(
            0, "E_UNREACHABLE", "client", f"the server at {url} is not reachable ({cause})"
        )
        self.url = url

    def __str__(self) -> str:
        return self.message


class PodiumClient(EventsApi, SchedulesApi):
    """Synchronous client; one keep-alive connection pool, closed by ``close()`` or ``with``."""

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        timeout: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        api_key: str | None = None,
    ) -> None:
        """``transport`` replaces the network (``httpx.MockTransport`` in tests); ``api_key``
        (``keyId:keySecret``, default ``PODIUM_API_KEY``) is for servers with auth on."""
        self.base_url = api_root(base_url)
        all_headers = dict(headers or {})
        key = api_key or os.environ.get("PODIUM_API_KEY")
        if key:
            all_headers.setdefault("authorization", f"Bearer {key}")
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport, headers=all_headers
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> PodiumClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        # Conductor's servers expect a JSON body on every write, ``{}`` when there is nothing.
        if method != "GET" and json_body is None:
            json_body = {}
        try:
            response = self._http.request(
                method, path, params=query, json=json_body if method != "GET" else None
            )
        except httpx.TransportError as exc:
            raise PodiumUnreachableError(self.base_url, exc) from exc
        if response.status_code >= 400:
            raise PodiumClientError.from_response(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _text(self, method: str, path: str, **kwargs: Any) -> str:
        text = self._request(method, path, **kwargs).text.strip()
        # Conductor answers ids as text/plain; some servers send a JSON string instead.
        if text.startswith('"'):
            value = json.loads(text)
            return str(value)
        return text

    # -- metadata ----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /api/health``; ``{"status": "ok"}`` when the server is up."""
        body = self._json("GET", "/api/health")
        return body if isinstance(body, dict) else {"status": str(body)}

    def register_task_defs(
        self, task_defs: list[dict[str, Any]], *, strict: bool = False
    ) -> list[str]:
        """Create or update task definitions; returns the server's warnings (``strict``: the
        server refuses definitions that draw any)."""
        response = self._request(
            "POST",
            "/api/metadata/taskdefs",
            params={"strict": "true" if strict else None},
            json_body=list(task_defs),
        )
        return _warnings(response)

    def list_task_defs(self) -> list[dict[str, Any]]:
        """Every task definition."""
        return list(self._json("GET", "/api/metadata/taskdefs") or [])

    def create_key(
        self,
        roles: list[str],
        *,
        key_id: str | None = None,
        task_types: list[str] | None = None,
        description: str = "",
        grants: list[str] | None = None,
    ) -> dict[str, Any]:
        """A new API key; the answer holds its secret, shown this once."""
        body: dict[str, Any] = {
            "roles": roles,
            "taskTypes": task_types or [],
            "description": description,
        }
        if grants:
            body["grants"] = grants
        if key_id:
            body["keyId"] = key_id
        created: dict[str, Any] = self._json("POST", "/api/keys", json_body=body)
        return created

    def list_keys(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/api/keys") or [])

    def revoke_key(self, key_id: str) -> None:
        self._request("DELETE", f"/api/keys/{_segment(key_id)}")

    def register_services(self, services: list[dict[str, Any]]) -> list[str]:
        """Create or replace services in the registry; returns their names."""
        body = self._json("POST", "/api/services", json_body=list(services)) or {}
        return list(body.get("registered", []))

    def list_services(self) -> list[dict[str, Any]]:
        """Every registered service, with its breaker's state."""
        return list(self._json("GET", "/api/services") or [])

    def get_service(self, name: str) -> dict[str, Any]:
        """One service, with its breaker's state and latest transitions."""
        body: dict[str, Any] = self._json("GET", f"/api/services/{_segment(name)}")
        return body

    def delete_service(self, name: str) -> None:
        self._request("DELETE", f"/api/services/{_segment(name)}")

    def reset_breaker(self, name: str) -> dict[str, Any]:
        """Close a service's circuit breaker by hand."""
        body: dict[str, Any] = self._json("POST", f"/api/services/{_segment(name)}/breaker/reset")
        return body

    def register_workflow(
        self, definition: Mapping[str, Any], overwrite: bool = True, *, strict: bool = False
    ) -> list[str]:
        """Register one workflow definition (Conductor JSON); ``overwrite`` makes it an upsert.

        Returns the server's warnings (unknown fields, references that resolve to null);
        ``strict`` has the server refuse the definition instead.
        """
        response = self._request(
            "POST",
            "/api/metadata/workflow",
            params={
                "overwrite": "true" if overwrite else "false",
                "strict": "true" if strict else None,
            },
            json_body=dict(definition),
        )
        return _warnings(response)

    def update_workflows(self, definitions: list[Mapping[str, Any]]) -> None:
        """Create or replace several workflow definitions at once (``PUT``)."""
        self._request("PUT", "/api/metadata/workflow", json_body=[dict(d) for d in definitions])

    def get_workflow_def(self, name: str, version: int | None = None) -> dict[str, Any]:
        """A workflow definition: the given version, or the latest."""
        body = self._json(
            "GET", f"/api/metadata/workflow/{_segment(name)}", params={"version": version}
        )
        return dict(body or {})

    def list_workflow_defs(self) -> list[dict[str, Any]]:
        """Every workflow definition."""
        return list(self._json("GET", "/api/metadata/workflow") or [])

    # -- runs --------------------------------------------------------------------------------

    def start_workflow(
        self,
        name: str,
        input: Mapping[str, Any] | None = None,
        version: int | None = None,
        correlation_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Start a run and return its id; the same ``idempotency_key`` returns the same run."""
        return self._text(
            "POST",
            f"/api/workflow/{_segment(name)}",
            params={
                "version": version,
                "correlationId": correlation_id,
                "idempotencyKey": idempotency_key,
            },
            json_body=dict(input or {}),
        )

    def get_workflow(self, workflow_id: str, include_tasks: bool = True) -> dict[str, Any]:
        """The run: status, input, output and (with ``include_tasks``) its tasks."""
        body = self._json(
            "GET",
            f"/api/workflow/{_segment(workflow_id)}",
            params={"includeTasks": "true" if include_tasks else "false"},
        )
        return dict(body or {})

    def search(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        correlation_id: str | None = None,
        started_after: int | None = None,
        started_before: int | None = None,
        start: int = 0,
        size: int = 50,
        query: str | None = None,
        free_text: str | None = None,
    ) -> dict[str, Any]:
        """Runs matching the filters (times in epoch ms): ``{"totalHits": n, "results": [...]}``."""
        body = self._json(
            "GET",
            "/api/workflow/search",
            params={
                "start": start,
                "size": size,
                "name": name,
                "status": status,
                "correlationId": correlation_id,
                "startedAfter": started_after,
                "startedBefore": started_before,
                "query": query,
                "freeText": free_text,
            },
        )
        result = dict(body or {})
        result.setdefault("totalHits", 0)
        result.setdefault("results", [])
        return result

    def terminate(
        self, workflow_id: str, reason: str | None = None, *, compensate: bool = False
    ) -> None:
        """Stop a run for good; ``reason`` is recorded as its reasonForIncompletion.

        With ``compensate`` the run first undoes its completed steps and ends COMPENSATED.
        """
        params: dict[str, Any] = {"reason": reason}
        if compensate:
            params["compensate"] = "true"
        self._request("DELETE", f"/api/workflow/{_segment(workflow_id)}", params=params)

    def pause(self, workflow_id: str) -> None:
        """Schedule nothing new for this run until ``resume``."""
        self._request("PUT", f"/api/workflow/{_segment(workflow_id)}/pause")

    def resume(self, workflow_id: str) -> None:
        """Resume a paused run."""
        self._request("PUT", f"/api/workflow/{_segment(workflow_id)}/resume")

    def retry(self, workflow_id: str) -> None:
        """Retry a failed run from the task that failed; resume a COMPENSATION_FAILED run's
        compensation from the compensation that failed."""
        self._request("POST", f"/api/workflow/{_segment(workflow_id)}/retry")

    def rerun(
        self,
        workflow_id: str,
        from_task: str | None = None,
        *,
        workflow_input: Mapping[str, Any] | None = None,
        task_input: Mapping[str, Any] | None = None,
    ) -> None:
        """Conductor's rerun of an ended run: from ``from_task`` (a task id or reference name;
        it and every task after it are dropped and run again), or from the start; optionally
        with new workflow input, and new input for ``from_task``."""
        body: dict[str, Any] = {}
        if from_task:
            body["reRunFromTaskId"] = from_task
        if workflow_input is not None:
            body["workflowInput"] = dict(workflow_input)
        if task_input is not None:
            body["taskInput"] = dict(task_input)
        self._request("POST", f"/api/workflow/{_segment(workflow_id)}/rerun", json_body=body)

    def bulk_rerun(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/bulk/rerun``: with ``dryRun`` the runs a ``filter`` picks; with
        ``runIds`` the retry of those runs, each answered retried or refused and why."""
        answer: dict[str, Any] = self._json("POST", "/api/bulk/rerun", json_body=dict(body))
        return answer

    def restart(self, workflow_id: str, use_latest_definitions: bool = False) -> None:
        """Run a finished run again from the start, with the same input."""
        params = {"useLatestDefinitions": "true"} if use_latest_definitions else None
        self._request("POST", f"/api/workflow/{_segment(workflow_id)}/restart", params=params)

    def signal(
        self,
        workflow_id: str,
        ref: str,
        status: str = "COMPLETED",
        output: Mapping[str, Any] | None = None,
    ) -> str:
        """Finish the waiting task ``ref`` (a WAIT or HUMAN task) of a run with ``output``."""
        return self._text(
            "POST",
            f"/api/tasks/{_segment(workflow_id)}/{_segment(ref)}/{_segment(status)}",
            json_body=dict(output or {}),
        )

    def wait_for(
        self,
        workflow_id: str,
        timeout: float = 60.0,
        poll_interval: float = 0.5,
        *,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll the run until its status is terminal and return it (with tasks).

        ``on_poll`` sees each snapshot (to show progress). Raises ``TimeoutError`` after
        ``timeout`` seconds, naming the run's last status.
        """
        began = time.monotonic()
        deadline = began + timeout
        while True:
            run = self.get_workflow(workflow_id, include_tasks=True)
            if on_poll is not None:
                on_poll(run)
            if run.get("status") in TERMINAL_STATUSES:
                return run
            left = deadline - time.monotonic()
            if left <= 0:
                # The time really waited, and what the server said holds the run up.
                waited = time.monotonic() - began
                why = "; ".join(str(d.get("message")) for d in run.get("diagnostics") or [])
                raise TimeoutError(
                    f"workflow {workflow_id} is still {run.get('status')} after {waited:.0f} s"
                    + (f": {why}" if why else "")
                )
            time.sleep(min(poll_interval, left))
