"""``FakeConductor``: a small Conductor-compatible server on a loopback port, for tests.

Use it to test workers and scripts without a real Podium server::

    with FakeConductor() as fake:
        fake.enqueue("reserve_inventory", {"sku": "A-1"})
        WorkerRunner(fake.url, tasks=[reserve]).run(burst=True)
        assert fake.updates[0]["status"] == "COMPLETED"

It speaks the same HTTP API as Podium (``/api/tasks/poll/batch``, ``update-batch``,
``update-v2``, metadata, workflow runs, search, signals), records every request and task update, and can be told to
answer the next requests with an error (``fail_next``) to test how clients cope.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from podium.errors import PodiumError, ValidationError
from podium.worker.fake_engine import FakeEngine

__all__ = ["FakeConductor"]


@dataclass
class _Fault:
    method: str
    path: str
    status: int
    times: int
    body: dict[str, Any]


async def _body(request: Request) -> Any:
    """The JSON body, or None when empty (Conductor clients send ``{}`` or nothing at all)."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the body is not JSON: {exc}", service="fake") from exc


def _flag(value: str | None) -> bool:
    # Conductor's Python SDK sends booleans as ``True``/``False`` in query strings.
    return (value or "").lower() == "true"


class FakeConductor:
    """A fake Podium server in a background thread; ``url`` is its base URL."""

    def __init__(self, *, update_v2: bool = True, update_batch: bool = True, port: int = 0) -> None:
        """``update_v2=False`` answers ``update-v2`` with 404, as an old Conductor would;
        ``update_batch=False`` answers ``update-batch`` with 404, as Conductor or an older
        Podium would."""
        self.engine = FakeEngine()
        self.update_v2 = update_v2
        self.update_batch = update_batch
        self.updates: list[dict[str, Any]] = []
        """Every TaskResult body posted, in order, with ``"_endpoint"``: ``"batch"``, ``"v2"``
        or ``"v1"``."""
        self.requests: list[tuple[str, str]] = []
        """``(method, path)`` of every request, in order."""
        self._faults: list[_Fault] = []
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FakeConductor:
        """Serve on ``127.0.0.1`` (the same port again after ``stop``); returns once listening."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Reuse the port at once after a stop, to simulate a server restart.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, log_level="warning", access_log=False, lifespan="off"
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-conductor", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake Conductor server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving; requests then fail to connect, as when a server is down."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> FakeConductor:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- test helpers ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every definition, run, task, recorded request and injected fault.

        Cheaper than a new server (stopping one takes ~0.2 s), so a test module can share one.
        """
        self.engine = FakeEngine()
        self.updates.clear()
        self.requests.clear()
        self._faults.clear()

    def enqueue(self, task_type: str, input: dict[str, Any] | None = None, **fields: Any) -> str:
        """Queue one task of ``task_type``; ``fields`` (camelCase) override its defaults."""
        return self.engine.enqueue(task_type, dict(input or {}), **fields)

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        code: str = "E_FAKE",
        message: str = "injected failure",
    ) -> None:
        """Answer the next ``times`` requests to ``method path`` with ``status`` and an error body."""
        body = {"status": status, "code": code, "service": "fake", "message": message}
        self._faults.append(_Fault(method.upper(), path, status, times, body))

    def task(self, task_id: str) -> dict[str, Any]:
        """The current state of a task, as the API would show it."""
        with self.engine.lock:
            return self.engine.public(self.engine.tasks[task_id])

    # -- HTTP --------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="fake conductor", openapi_url=None)

        @app.middleware("http")
        async def record_and_inject(request: Request, call_next: Any) -> Response:
            method, path = request.method, request.url.path
            self.requests.append((method, path))
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.path == path:
                    fault.times -= 1
                    return JSONResponse(fault.body, status_code=fault.status)
            response: Response = await call_next(request)
            return response

        @app.exception_handler(PodiumError)
        async def podium_error(request: Request, exc: PodiumError) -> JSONResponse:
            return JSONResponse(exc.to_dict(), status_code=exc.status_code)

        @app.get("/api/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/api/tasks/poll/batch/{task_type}")
        async def poll(
            task_type: str, workerid: str = "", count: int = 1, timeout: int = 100
        ) -> list[dict[str, Any]]:
            deadline = time.monotonic() + min(timeout, 30_000) / 1000
            while True:
                tasks = self.engine.poll(task_type, workerid, max(count, 1))
                if tasks or time.monotonic() >= deadline:
                    return tasks
                await asyncio.sleep(0.005)

        async def record_update(request: Request, endpoint: str) -> dict[str, Any]:
            body = await _body(request)
            if not isinstance(body, dict):
                raise ValidationError("a TaskResult must be an object", service="fake")
            self.updates.append({**body, "_endpoint": endpoint})
            return self.engine.update(body)

        def next_for(task: dict[str, Any]) -> dict[str, Any] | None:
            following = self.engine.poll(task["taskType"], str(task.get("workerId") or ""), 1)
            return following[0] if following else None

        @app.post("/api/tasks/update-v2")
        async def update_v2(request: Request) -> Response:
            if not self.update_v2:
                return JSONResponse({"detail": "Not Found"}, status_code=404)
            following = next_for(await record_update(request, "v2"))
            if following is None:
                return Response(status_code=204)
            return JSONResponse(following)

        @app.post("/api/tasks/update-batch")
        async def update_batch(request: Request) -> Response:
            if not self.update_batch:
                return JSONResponse({"detail": "Not Found"}, status_code=404)
            body = await _body(request)
            if not isinstance(body, list) or not 1 <= len(body) <= 100:
                raise ValidationError("an array of 1 to 100 TaskResults", service="fake")
            if not all(isinstance(item, dict) for item in body):
                raise ValidationError("a TaskResult must be an object", service="fake")
            answers: list[dict[str, Any]] = []
            for item in body:
                self.updates.append({**item, "_endpoint": "batch"})
                try:
                    task = self.engine.update(item)
                except PodiumError as exc:
                    answers.append({"taskId": item.get("taskId"), "error": exc.to_dict()})
                else:
                    answers.append({"taskId": item.get("taskId"), "next": next_for(task)})
            return JSONResponse(answers)

        @app.post("/api/tasks")
        async def update_v1(request: Request) -> PlainTextResponse:
            task = await record_update(request, "v1")
            return PlainTextResponse(str(task["taskId"]))

        @app.post("/api/tasks/{workflow_id}/{ref}/{status}")
        async def signal(workflow_id: str, ref: str, status: str, request: Request) -> Response:
            output = await _body(request)
            task_id = self.engine.signal(workflow_id, ref, status, output or {})
            return PlainTextResponse(task_id)

        @app.post("/api/metadata/taskdefs")
        async def register_task_defs(request: Request) -> Response:
            body = await _body(request)
            self.engine.register_task_defs(body if isinstance(body, list) else [body])
            return Response(status_code=200)

        @app.get("/api/metadata/taskdefs")
        async def task_defs() -> list[dict[str, Any]]:
            return list(self.engine.task_defs.values())

        @app.post("/api/metadata/workflow")
        async def register_workflow(request: Request, overwrite: str | None = None) -> Response:
            self.engine.register_workflow(
                await _body(request), overwrite=_flag(overwrite or "true")
            )
            return Response(status_code=200)

        @app.put("/api/metadata/workflow")
        async def update_workflows(request: Request) -> Response:
            body = await _body(request)
            for definition in body if isinstance(body, list) else [body]:
                self.engine.register_workflow(definition)
            return Response(status_code=200)

        @app.get("/api/metadata/workflow")
        async def workflow_defs() -> list[dict[str, Any]]:
            return list(self.engine.workflow_defs.values())

        @app.get("/api/metadata/workflow/{name}")
        async def workflow_def(name: str, version: int | None = None) -> dict[str, Any]:
            return self.engine.get_workflow_def(name, version)

        @app.get("/api/workflow/search")
        async def search(
            start: int = 0,
            size: int = 100,
            name: str | None = None,
            status: str | None = None,
            correlationId: str | None = None,
        ) -> dict[str, Any]:
            found = self.engine.search(name, status, correlationId)
            return {"totalHits": len(found), "results": found[start : start + size]}

        @app.post("/api/workflow/{name}")
        async def start(
            name: str,
            request: Request,
            version: int | None = None,
            correlationId: str | None = None,
            idempotencyKey: str | None = None,
        ) -> PlainTextResponse:
            inp = await _body(request)
            wf_id = self.engine.start(name, inp or {}, version, correlationId, idempotencyKey)
            return PlainTextResponse(wf_id)

        @app.get("/api/workflow/{wf_id}")
        async def get_workflow(wf_id: str, includeTasks: str = "true") -> dict[str, Any]:
            return self.engine.view(wf_id, include_tasks=_flag(includeTasks))

        @app.delete("/api/workflow/{wf_id}")
        async def terminate(wf_id: str, reason: str | None = None) -> Response:
            self.engine.control(wf_id, "terminate", reason)
            return Response(status_code=200)

        @app.put("/api/workflow/{wf_id}/{action}")
        @app.post("/api/workflow/{wf_id}/{action}")
        async def control(wf_id: str, action: str) -> Response:
            if action not in ("pause", "resume", "retry", "restart"):
                return JSONResponse({"detail": "Not Found"}, status_code=404)
            self.engine.control(wf_id, action)
            return Response(status_code=200)

        return app
