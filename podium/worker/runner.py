"""``WorkerRunner``: polls the server for tasks, runs their handlers and posts the results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from podium.client import api_root
from podium.resilience.backoff import Backoff
from podium.worker.execution import execute
from podium.worker.registry import WorkerTaskSpec, spec_for
from podium.worker.result_batch import ResultBatcher
from podium.worker.task import Task
from podium.worker.tracing import WorkerTracing
from podium.worker.transport import HttpTransport, error_text

__all__ = ["WorkerRunner", "default_worker_id"]

logger = logging.getLogger("podium.worker")

_BURST_POLL_TIMEOUT_MS = 100


def default_worker_id() -> str:
    """``<hostname>-<pid>-<random>``: unique per process, readable in the UI and in logs."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(eq=False)
class _Slots:
    """The handler of one task type and its concurrency bookkeeping."""

    spec: WorkerTaskSpec
    concurrency: int
    poll_timeout_ms: int
    in_flight: int = 0
    idle_epoch: int = -1
    """In burst mode: ``completions`` when this type's last empty poll started."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class WorkerRunner:
    """Runs handlers for their task types against one Podium (or Conductor) server.

    For each task type there are ``concurrency`` slots. A poller long-polls for as many tasks
    as there are free slots; each task runs in its own asyncio task (sync handlers in a thread
    pool), its result is posted with the results that finish alongside it in one
    ``update-batch`` request (``update-v2`` on servers without it), and the next task the
    server hands back is run at once in the same slot. The runner never crashes on server
    trouble: polls back off, results are retried for ``update_retry_seconds`` so none is lost
    while the server restarts.
    """

    def __init__(
        self,
        server_url: str,
        tasks: Iterable[WorkerTaskSpec | Callable[..., Any]],
        worker_id: str | None = None,
        *,
        concurrency: int | None = None,
        poll_timeout_ms: int | None = None,
        update_retry_seconds: float = 600.0,
        http_timeout: float = 30.0,
        api_key: str | None = None,
        tracing: WorkerTracing | None = None,
    ) -> None:
        """``concurrency`` and ``poll_timeout_ms``, when given, override every handler's own;
        ``api_key`` (``keyId:keySecret``, default ``PODIUM_API_KEY``) is for servers with auth
        on; ``tracing`` defaults to what the ``OTEL_*`` variables configure."""
        self.tracing = tracing or WorkerTracing.from_env()
        # Several instances of one Podium may be listed, separated by commas.
        self.server_url = ",".join(api_root(url.strip()) for url in server_url.split(","))
        self.worker_id = worker_id or default_worker_id()
        self.update_retry_seconds = update_retry_seconds
        self.http_timeout = http_timeout
        self.api_key = api_key or os.environ.get("PODIUM_API_KEY") or None
        self._specs: dict[str, WorkerTaskSpec] = {}
        for item in tasks:
            spec = spec_for(item)
            if spec.name in self._specs:
                raise ValueError(f"two handlers for task type {spec.name!r}")
            self._specs[spec.name] = spec
        if not self._specs:
            raise ValueError("WorkerRunner needs at least one task handler")
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self._concurrency = concurrency
        self._poll_timeout_ms = poll_timeout_ms
        self._results = ResultBatcher(update_retry_seconds)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._forced = False
        self._stopping = asyncio.Event()
        self._states: list[_Slots] = []
        self._running: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._completions = 0
        self._client: HttpTransport | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def task_types(self) -> list[str]:
        """The task types this runner polls for."""
        return list(self._specs)

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self, burst: bool = False) -> None:
        """Run until SIGINT/SIGTERM (or ``stop()``); with ``burst``, until the queues are empty.

        The first signal stops polling and lets in-flight tasks finish and post their results;
        a second one quits at once and raises ``KeyboardInterrupt`` (their leases expire and the
        server hands those tasks out again).
        """
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(self.run_async(burst=burst, install_signal_handlers=True))
        if self._forced:
            raise KeyboardInterrupt

    async def run_async(
        self, burst: bool = False, *, install_signal_handlers: bool = False
    ) -> None:
        """``run`` for callers that already have an event loop."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._forced = False
        self._in_flight = self._completions = 0
        self._states = [
            _Slots(
                spec,
                self._concurrency or spec.concurrency,
                spec.poll_timeout_ms if self._poll_timeout_ms is None else self._poll_timeout_ms,
            )
            for spec in self._specs.values()
        ]
        if self._stop_requested:  # stop() came before the loop existed
            self._request_stop()
        total = sum(s.concurrency for s in self._states)
        sync_slots = sum(s.concurrency for s in self._states if not s.spec.is_async)
        if sync_slots:
            self._executor = ThreadPoolExecutor(sync_slots, thread_name_prefix="podium-worker")
        # One keep-alive connection per slot (for updates) and per poller.
        pool = total + len(self._states) + 2
        handled = self._install_signal_handlers() if install_signal_handlers else []
        pollers: list[asyncio.Task[None]] = []
        logger.info(
            "worker %s polling %s for %s",
            self.worker_id,
            self.server_url,
            ", ".join(f"{s.spec.name} x{s.concurrency}" for s in self._states),
        )
        try:
            async with HttpTransport(
                self.server_url,
                pool=pool,
                timeout_s=self.http_timeout,
                connect_s=min(self.http_timeout, 5.0),
                headers={"authorization": f"Bearer {self.api_key}"} if self.api_key else None,
            ) as client:
                self._client = client
                self._results.open(client, self._stopping)
                pollers = [asyncio.create_task(self._poll_loop(s, burst)) for s in self._states]
                self._running.update(pollers)
                await asyncio.gather(*pollers, return_exceptions=True)
                # Polling is over; in-flight tasks still finish and post their results.
                while slots := [t for t in self._running if t not in pollers]:
                    await asyncio.gather(*slots, return_exceptions=True)
        finally:
            for t in self._running:
                t.cancel()
            self._running.clear()
            for signum in handled:
                self._loop.remove_signal_handler(signum)
            if self._executor is not None:
                # A sync handler cannot be interrupted; do not wait for one after a forced quit.
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            self._results.close()
            self._client = None
            self._stop_requested = False
            self.tracing.flush()
            logger.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        """Stop polling and return once in-flight tasks are done; safe from any thread."""
        self._stop_requested = True  # set first: run_async checks it after publishing the loop
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._request_stop()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(self._request_stop)

    def _request_stop(self) -> None:
        self._stopping.set()
        for state in self._states:
            state.wake.set()

    def _install_signal_handlers(self) -> list[int]:
        if threading.current_thread() is not threading.main_thread() or self._loop is None:
            return []
        handled: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._loop.add_signal_handler(signum, self._on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not on this platform
                continue
            handled.append(signum)
        return handled

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self._stopping.is_set():
            logger.warning(
                "%s: stopping; finishing %d in-flight task(s) (send it again to quit now)",
                name,
                self._in_flight,
            )
            self._request_stop()
            return
        logger.warning("%s again: quitting now; %d task(s) left unfinished", name, self._in_flight)
        self._forced = True
        for t in self._running:
            t.cancel()

    # -- polling -----------------------------------------------------------------------------

    async def _poll_loop(self, state: _Slots, burst: bool) -> None:
        backoff = Backoff(0.1, 2.0)
        failing = False
        while not self._stopping.is_set():
            # Cleared before looking at the counters, so a slot freed while we poll still wakes us.
            state.wake.clear()
            free = state.concurrency - state.in_flight
            if free <= 0:
                await state.wake.wait()
                continue
            epoch = self._completions
            try:
                tasks = await self._poll(state, free, burst)
            except Exception as exc:
                # The server is down or restarting: log once per outage, then keep trying.
                log = logger.debug if failing else logger.warning
                log("cannot poll %s from %s: %s; retrying", state.spec.name, self.server_url, exc)
                failing = True
                await self._sleep_unless_stopping(backoff.next())
                continue
            if failing:
                logger.warning("polling %s from %s again", state.spec.name, self.server_url)
                failing = False
            backoff.reset()
            for task in tasks:
                self._start(state, task)
            if tasks or not burst:
                continue
            # Burst mode ends when every type found its queue empty after the last task
            # finished (a finished task may have queued more work) and nothing is running.
            state.idle_epoch = epoch
            if self._in_flight == 0 and all(
                s.idle_epoch == self._completions for s in self._states
            ):
                self._request_stop()
                return
            await state.wake.wait()

    async def _poll(self, state: _Slots, count: int, burst: bool) -> list[dict[str, Any]]:
        assert self._client is not None
        timeout_ms = state.poll_timeout_ms
        if burst:
            # Burst mode drains what is queued now; it should not wait for what may come.
            timeout_ms = min(timeout_ms, _BURST_POLL_TIMEOUT_MS)
        # Our results carry each lease's token back: Podium then refuses any result for
        # our leases without it (a server that does not know the parameter ignores it).
        params: dict[str, str | int] = {
            "workerid": self.worker_id,
            "count": count,
            "timeout": timeout_ms,
            "requireLeaseToken": "true",
        }
        if state.spec.domain:
            params["domain"] = state.spec.domain
        response = await self._client.get(
            f"/api/tasks/poll/batch/{quote(state.spec.name, safe='')}",
            params=params,
            timeout_s=self.http_timeout + timeout_ms / 1000,
        )
        if response.status_code == 204 or not response.content:
            return []
        if response.status_code != 200:
            code, message = error_text(response)
            raise RuntimeError(f"HTTP {response.status_code} {code} {message}".replace("  ", " "))
        body = response.json()
        items = body if isinstance(body, list) else [body]
        # Conductor's SDK skips tasks without an id; so do we.
        return [t for t in items if isinstance(t, dict) and t.get("taskId")]

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # -- running and reporting ---------------------------------------------------------------

    def _start(self, state: _Slots, task: dict[str, Any]) -> None:
        state.in_flight += 1
        self._in_flight += 1
        runner = asyncio.create_task(self._run_slot(state, task), name=f"podium:{task['taskId']}")
        self._running.add(runner)
        runner.add_done_callback(self._running.discard)

    async def _run_slot(self, state: _Slots, first: dict[str, Any]) -> None:
        try:
            current: dict[str, Any] | None = first
            while current is not None:
                task = Task.from_json(current)
                spec = self._specs.get(task.task_type, state.spec)
                with self.tracing.task(task, self.worker_id) as scope:
                    result = await execute(spec, task, self.worker_id, self._executor)
                    scope.finished(result.status, result.body.get("reasonForIncompletion"))
                current = await self._results.post(result, scope.traceparent)
        except Exception:  # a bug of ours; a handler's errors are results, not exceptions
            logger.exception("worker slot for %s failed", state.spec.name)
        finally:
            state.in_flight -= 1
            self._in_flight -= 1
            self._completions += 1
            for s in self._states:
                s.wake.set()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed: a worker spends most of its time in the event loop."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
