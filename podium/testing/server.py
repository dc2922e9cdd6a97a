"""``PodiumTestServer``: the real Podium server, on a loopback port in a background thread."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from podium.engine.state import TERMINAL_RUN_STATUSES
from podium.observability.tracing import SpanEmitter
from podium.server.app import create_app
from podium.settings import Settings
from podium.testing.traffic import HELPER_HEADER, Fault, RecordedRequest, Traffic

__all__ = ["PodiumTestServer", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PodiumTestServer:
    """A Podium server in a background thread, on a real store: SQLite in a temporary
    directory unless ``database`` names a file or a PostgreSQL URL.

    It can be stopped and started again, on the same port and store, to test how clients
    live through a restart. It records the requests it receives (``requests``) and fails,
    delays or drops the ones a test asks it to (``fail_next``, ``delay_next``, ``drop_next``).
    """

    def __init__(
        self,
        database: str | Path | None = None,
        *,
        spans: SpanEmitter | None = None,
        port: int = 0,
        **settings: Any,
    ) -> None:
        """``spans`` receives the server's spans (say, to an in-memory exporter);
        ``settings`` are ``Settings`` fields (``sweep_interval_s=0.2``, ``auth=True``...)."""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if database is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="podium-test-")
            database = Path(self._tmp.name) / "podium.db"
        self.port = port or free_port()
        self.settings = replace(Settings(), database=str(database), port=self.port, **settings)
        self.url = f"http://127.0.0.1:{self.port}"
        self._spans = spans
        self._traffic = Traffic()
        self.app = create_app(self.settings, spans=spans)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.Client | None = None
        self._task_defs_made: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> PodiumTestServer:
        """Serve (again after ``stop``, on the same port and store); returns once listening."""
        if self._server is not None:
            return self
        if self._thread is not None:  # a restart: a fresh app, as a new process would build
            self.app = create_app(self.settings, spans=self._spans)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Take the port again at once after a stop, as a restarted server would.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(
            self._traffic.wrap(self.app, self._note_loop),
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="podium-test-server", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = None
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving; requests then fail to connect, as when a server is down."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
        self._server = None

    def close(self) -> None:
        """Stop, and remove the temporary store if the server made one."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> PodiumTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _note_loop(self) -> None:
        self._loop = asyncio.get_running_loop()

    # -- what the server received, and faults ------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order, but for this object's own helper calls."""
        return self._traffic.requests

    def results(self) -> list[dict[str, Any]]:
        """Every TaskResult posted (to ``update-batch``, ``update-v2`` or ``/api/tasks``)."""
        return [result for request in self.requests for result in request.results]

    def reset(self) -> None:
        """Forget recorded requests and injected faults (runs and definitions stay), so that
        the tests of a module can share one server."""
        self._traffic.clear()

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        code: str = "E_INJECTED",
        message: str = "injected failure",
    ) -> None:
        """Answer the next ``times`` requests to ``method path`` (a glob: ``/api/workflow/*``;
        method ``*`` for any) with ``status`` and an error body, without handling them;
        ``times=None`` for every one (say, 404 to play a server without a route)."""
        body = {"status": status, "code": code, "service": "test-server", "message": message}
        self._traffic.add(Fault(method.upper(), path, times, status=status, body=body))

    def delay_next(self, method: str, path: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` requests to ``method path`` for ``seconds``, then handle them."""
        self._traffic.add(Fault(method.upper(), path, times, delay_s=seconds))

    def drop_next(
        self, method: str, path: str, *, times: int = 1, after_handling: bool = False
    ) -> None:
        """Cut the connection of the next ``times`` requests to ``method path`` before they are
        answered: unhandled, or with ``after_handling`` once the server has done (and
        committed) the work, so only the answer is lost."""
        fault = Fault(method.upper(), path, times, drop=True, drop_after_handling=after_handling)
        self._traffic.add(fault)

    def clear_faults(self) -> None:
        """Answer every request normally again."""
        self._traffic.clear_faults()

    # -- helpers over the API ----------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        """An HTTP client on the running server whose requests are neither recorded nor
        subject to injected faults."""
        if self._server is None:
            raise RuntimeError("the test server is not running: call start() or use `with`")
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, headers={HELPER_HEADER: "1"}, timeout=30)
        return self._client

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        if response.is_error:
            # The server's error body says what was wrong; httpx's own message would not.
            raise httpx.HTTPStatusError(
                f"{method} {path}: HTTP {response.status_code}: {response.text}",
                request=response.request,
                response=response,
            )
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._call(method, path, **kwargs)
        return response.json() if response.content else None

    def register(self, *definitions: dict[str, Any]) -> None:
        """Register workflow definitions (a newer body replaces one of the same version)."""
        for definition in definitions:
            self._json(
                "POST", "/api/metadata/workflow", params={"overwrite": "true"}, json=definition
            )

    def register_task_defs(self, *definitions: dict[str, Any]) -> None:
        """Register task definitions."""
        self._json("POST", "/api/metadata/taskdefs", json=list(definitions))

    def start_run(
        self,
        name: str,
        input: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Start a run of workflow ``name``; returns its id."""
        params = {"version": version, "correlationId": correlation_id}
        response = self._call(
            "POST",
            f"/api/workflow/{name}",
            json=input or {},
            params={k: v for k, v in params.items() if v is not None},
        )
        return response.text

    def run(self, run_id: str, *, include_tasks: bool = True) -> dict[str, Any]:
        """The run as ``GET /api/workflow/{id}`` shows it."""
        params = {"includeTasks": str(include_tasks).lower()}
        found: dict[str, Any] = self._json("GET", f"/api/workflow/{run_id}", params=params)
        return found

    def wait(self, run_id: str, timeout: float = 10) -> dict[str, Any]:
        """The run once it has ended; ``TimeoutError`` if it has not within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.run(run_id)
            if found["status"] in TERMINAL_RUN_STATUSES:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {found['status']} after {timeout} s")
            time.sleep(0.01)

    def task(self, task_id: str) -> dict[str, Any]:
        """The task as ``GET /api/tasks/{id}`` shows it."""
        found: dict[str, Any] = self._json("GET", f"/api/tasks/{task_id}")
        return found

    def enqueue(
        self, task_type: str, input: dict[str, Any] | None = None, *, reference_name: str = ""
    ) -> str:
        """Queue one task of ``task_type`` for a worker, in a run of its own; returns its id.

        The run is of a one-step workflow ``test_<task_type>``. Unless the type has a task
        definition already, it gets one that does not retry, so a failed task ends its run.
        """
        fields = dict(input or {})
        if task_type not in self._task_defs_made:
            known = self.client.get(f"/api/metadata/taskdefs/{task_type}")
            if known.status_code == 404:
                self.register_task_defs({"name": task_type, "retryCount": 0})
            self._task_defs_made.add(task_type)
        step = {
            "name": task_type,
            "taskReferenceName": reference_name or f"{task_type}_ref",
            "type": "SIMPLE",
            "inputParameters": {key: f"${{workflow.input.{key}}}" for key in fields},
        }
        name = f"test_{task_type}"
        self.register({"name": name, "version": 1, "tasks": [step]})
        run_id = self.start_run(name, fields)
        task_id: str = self.run(run_id)["tasks"][0]["taskId"]
        return task_id

    def take_lease(self, task_id: str, worker_id: str = "another-worker") -> None:
        """Give the leased task ``task_id`` to ``worker_id``, as when its lease ran out and
        another worker polled it: its first worker's result is then refused (409)."""
        if self._loop is None:
            raise RuntimeError("the test server is not running: call start() or use `with`")
        store = self.app.state.orchestrator.store
        released = store.write(lambda tx: tx.release_lease(task_id))
        asyncio.run_coroutine_threadsafe(released, self._loop).result(10)
        task_type = self.task(task_id)["taskDefName"]
        claimed = self._json(
            "GET", f"/api/tasks/poll/batch/{task_type}", params={"workerid": worker_id}
        )
        if [task["taskId"] for task in claimed or []] != [task_id]:
            raise RuntimeError(f"another task of {task_type} was ready; {worker_id} took that")
