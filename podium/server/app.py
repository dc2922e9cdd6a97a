"""The ASGI application: Conductor-compatible routes under ``/api``, one error handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from podium import __version__
from podium.auth.middleware import Authenticator, AuthMiddleware
from podium.dsl.evaluators import load_engine
from podium.errors import PodiumError, StoreError
from podium.events.runtime import EventRuntime
from podium.observability.metrics import Metrics
from podium.observability.observer import Observer
from podium.observability.tracing import SpanEmitter
from podium.server import (
    routes_auth,
    routes_bulk,
    routes_contracts,
    routes_event_handlers,
    routes_events,
    routes_execute,
    routes_lookup,
    routes_metadata,
    routes_metrics,
    routes_notifications,
    routes_rerun,
    routes_scaling,
    routes_schedules,
    routes_search,
    routes_services,
    routes_signal,
    routes_slos,
    routes_subscriptions,
    routes_tasks,
    routes_trace,
    routes_workflow,
)
from podium.server.api_docs import mount_api_docs
from podium.server.breaker_recovery import BreakerRecovery
from podium.server.error_bodies import internal_error, podium_error
from podium.server.fast_path import FastPath
from podium.server.http_targets import TargetPolicy
from podium.server.http_tasks import HttpTaskExecutor
from podium.server.jq_tasks import JqTaskExecutor
from podium.server.limits import engine_limits
from podium.server.notify_pump import NotifyPump
from podium.server.openapi import describe
from podium.server.orchestrator import Orchestrator
from podium.server.request_context import RequestContext
from podium.server.request_limits import RequestLimits
from podium.server.retention import Retention
from podium.server.scheduler import Scheduler
from podium.server.secrets import SecretResolver
from podium.server.sweeper import Sweeper
from podium.server.ui import mount_ui
from podium.settings import Settings
from podium.store.base import Store
from podium.store.factory import store_for

__all__ = ["create_app"]


class _PodiumApp(FastAPI):
    """FastAPI with Podium's own layers outside Starlette's middleware stack.

    Authentication, request context and the fast path wrap the stack instead of sitting
    inside it: the worker's hot routes then skip Starlette's error and exception layers and
    FastAPI's own, which cost as much per request as the fast path saves. The fast path turns
    its own errors into responses; every other route still gets the whole stack.
    """

    authenticator: Authenticator | None = None
    max_body_bytes: int = Settings().max_payload_bytes

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document with every route's real answers (``server.openapi``)."""
        if self.openapi_schema is None:
            self.openapi_schema = describe(super().openapi(), self.state.settings)
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = FastPath(super().build_middleware_stack())
        app = RequestLimits(app, limit=self.max_body_bytes)
        app = RequestContext(app)
        if self.authenticator is not None:
            # Outermost, so that nothing, the fast path included, runs unauthorized.
            app = AuthMiddleware(app, authenticator=self.authenticator)
        return app


def _error(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def create_app(
    settings: Settings, store: Store | None = None, *, spans: SpanEmitter | None = None
) -> FastAPI:
    """The server for ``settings``; ``store`` defaults to the backend they name, ``spans``
    to what the ``OTEL_*`` variables configure (usually nothing)."""
    # Built first: a bad PODIUM_HTTP_TASK_* entry stops the server before it opens anything.
    targets = TargetPolicy(
        settings.http_task_allow,
        settings.http_task_deny,
        strict=settings.http_task_strict,
        own_port=settings.port,
    )
    # Scripts run only in QuickJS: without it the server stops here, not at a run's first SWITCH.
    load_engine()
    backend: Store = store or store_for(settings)
    emitter = spans or SpanEmitter.from_env("podium-server")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.open()
        backend.subscribe(orchestrator.heard_ready)
        sweeper = Sweeper(orchestrator, max_sleep_s=settings.sweep_interval_s)
        orchestrator.on_timer_added = sweeper.poke
        recovery = BreakerRecovery(orchestrator)
        orchestrator.on_breaker_closed = recovery.poke
        executor = HttpTaskExecutor(
            orchestrator,
            concurrency=settings.http_task_concurrency,
            secrets=SecretResolver(settings.secrets_file),
            max_output_bytes=settings.max_task_output_bytes,
            targets=targets,
        )
        jq_executor = JqTaskExecutor(orchestrator, engine_limits(settings))
        pump = NotifyPump(
            backend,
            settings.notify,
            base_url=f"http://{settings.host}:{settings.port}",
            secrets=SecretResolver(settings.secrets_file),
            metrics=orchestrator.observer.metrics,
            clock=orchestrator.clock,
            max_sleep_s=settings.sweep_interval_s,
        )
        if settings.notify.pump:
            orchestrator.on_notifications = pump.poke
            pump.start()
        sweeper.start()
        recovery.start()
        scheduler.start()
        executor.start()
        jq_executor.start()
        if retention is not None:
            retention.start()
        events = EventRuntime(orchestrator, settings)
        app.state.events = events
        await events.start()
        try:
            yield
        finally:
            await events.stop()
            if retention is not None:
                await retention.stop()
            await pump.stop()
            await jq_executor.stop()
            await executor.stop()
            await scheduler.stop()
            await recovery.stop()
            await sweeper.stop()
            orchestrator.waiters.notify_all()
            await backend.close()
            if emitter is not None:
                emitter.shutdown()

    orchestrator = Orchestrator(
        backend, observer=Observer(Metrics(), emitter), limits=engine_limits(settings)
    )
    scheduler = Scheduler(orchestrator, max_sleep_s=settings.sweep_interval_s)
    retention = None
    if settings.retention_days is not None:
        retention = Retention(
            backend,
            max_age_days=settings.retention_days,
            mode=settings.retention_mode,
            batch=settings.retention_batch,
            interval_s=settings.retention_interval_s,
            clock=orchestrator.clock,
        )
    app = _PodiumApp(
        title="Podium",
        version=__version__,
        description="A durable orchestrator for microservices, speaking Conductor's API.",
        lifespan=lifespan,
        # Served by ``mount_api_docs`` from installed files rather than FastAPI's CDN.
        docs_url=None,
        redoc_url=None,
        # Podium emits its own spans and metrics, per run and per task. FastAPI's own, in
        # recent releases, would add a span per request (each long poll too) and look up the
        # global providers on every request. Releases without it keep the key in ``extra``.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.max_body_bytes = settings.max_payload_bytes
    authenticator = (
        Authenticator(
            backend,
            rate_per_key=settings.rate_limit_per_key,
            key_cache_s=settings.auth_key_cache_s,
        )
        if settings.auth
        else None
    )
    app.state.authenticator = authenticator
    app.authenticator = authenticator
    app.state.retention = retention
    app.state.scheduler = scheduler
    app.state.orchestrator = orchestrator
    app.state.poll_log = orchestrator.poll_log

    @app.exception_handler(PodiumError)
    async def on_podium_error(request: Request, exc: PodiumError) -> JSONResponse:
        return podium_error(exc)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        field = None
        for error in exc.errors():
            loc = [
                str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")
            ]
            name = ".".join(loc) or "request"
            field = field or name
            problems.append(f"{name}: {error.get('msg')}")
        body = {
            "status": 400,
            "code": "E_INVALID",
            "service": "server",
            "message": "; ".join(problems),
            "field": field,
            "retryable": False,
        }
        return _error(400, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        where = f"{request.method} {request.url.path}"
        message = f"{where}: {exc.detail}"
        code = "E_HTTP"
        # Starlette's own answers when no route matched: say so, so that nobody reads them
        # as a route's refusal of what the path names.
        if exc.status_code == 404 and exc.detail == "Not Found":
            code, message = "E_NO_ROUTE", f"{where}: no such route (the routes: /docs)"
        elif exc.status_code == 405:
            code, message = "E_NO_ROUTE", f"{where}: the route does not take {request.method}"
        body = {
            "status": exc.status_code,
            "code": code,
            "service": "server",
            "message": message,
            "retryable": False,
        }
        return _error(exc.status_code, body)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request, exc)

    @app.get("/api/health", tags=["health"])
    @app.get("/api/health/ready", tags=["health"])
    async def health() -> Any:
        """Ready: the store takes units now. A load balancer reads the 503 (with
        ``Retry-After``) while the database is down as "send the traffic elsewhere"."""
        try:
            await backend.ping()
        except StoreError as exc:
            body = {**exc.to_dict(), "live": True, "ready": False, "store": backend.name}
            return JSONResponse(
                body, status_code=503, headers={"Retry-After": str(exc.retry_after_s)}
            )
        return {
            "status": "ok",
            "version": __version__,
            "store": backend.name,
            "live": True,
            "ready": True,
        }

    @app.get("/api/health/live", tags=["health"])
    async def live() -> dict[str, Any]:
        """Live: the process serves requests, whatever the store's state; restarting it
        would not bring the database back."""
        return {"status": "ok", "version": __version__, "live": True}

    # The routers' routes are added as they are: FastAPI resolves an included router's routes
    # again on every request, which cost more than the rest of a task update together.
    # Literal paths (``bulk/retry``, ``running/{name}``, ``tasks/search``) go before
    # ``{workflow_id}/retry`` and ``tasks/{task_id}``, and signals before the task routes
    # whose paths they look like.
    routers = (
        routes_metadata.router,
        routes_bulk.router,
        routes_rerun.router,
        routes_lookup.router,
        routes_execute.router,
        routes_search.router,
        routes_workflow.router,
        routes_signal.router,
        routes_tasks.router,
        routes_services.router,
        routes_auth.router,
        routes_contracts.router,
        routes_events.router,
        routes_event_handlers.router,
        routes_subscriptions.router,
        routes_schedules.router,
        routes_slos.router,
        routes_notifications.router,
        routes_trace.router,
        routes_metrics.router,
        routes_scaling.router,
    )
    for router in routers:
        app.router.routes.extend(router.routes)
    mount_ui(app)
    mount_api_docs(app)
    return app
