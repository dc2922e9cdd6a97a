"""The ``podium`` command: run the server and workers, register definitions, drive runs.

Every command that talks to a server takes ``--server`` (or ``PODIUM_SERVER``) and ``--json``
for output that scripts can read. Exit codes: 0 success, 1 error (or a run that did not
complete), 2 bad usage, 124 ``start --wait`` timed out.
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.text import Text

from podium.cli_auth import ApiKeyGroup
from podium.cli_contracts import contracts_app
from podium.cli_db import db_app
from podium.cli_events import events_app, handlers_app
from podium.cli_feedback import print_warnings
from podium.cli_keys import keys_app
from podium.cli_output import (
    JsonOpt,
    ServerOpt,
    client as _client,
    echo_json as _echo_json,
    fail as _fail,
    stdout as _stdout,
)
from podium.cli_runs import runs_app
from podium.cli_schedules import schedules_app
from podium.cli_services import services_app
from podium.cli_slo import slo_app
from podium.cli_trace import trace
from podium.client import DEFAULT_SERVER
from podium.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="podium",
    help="Podium: a durable workflow orchestrator that speaks Conductor's API.",
    no_args_is_help=True,
    cls=ApiKeyGroup,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="PODIUM_API_KEY",
            help="keyId:keySecret, for a server with auth on [env: PODIUM_API_KEY]; "
            "may also follow the command (podium list --api-key K).",
            show_envvar=False,
        ),
    ] = None,
) -> None:
    """Podium: a durable workflow orchestrator that speaks Conductor's API."""
    if api_key:
        # Every client and worker this process makes reads it from here.
        os.environ["PODIUM_API_KEY"] = api_key


app.add_typer(db_app, name="db")
app.add_typer(services_app, name="services")
app.add_typer(schedules_app, name="schedules")
app.add_typer(slo_app, name="slo")
app.add_typer(keys_app, name="keys")
app.add_typer(contracts_app, name="contracts")
app.add_typer(events_app, name="events")
app.add_typer(handlers_app, name="handlers")
# -- server and worker ---------------------------------------------------------------------------


@app.command()
def server(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLite file [env: PODIUM_DATABASE; default: podium.db in PODIUM_DATA_DIR, "
            "else in the current directory].",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="postgresql://... to keep runs in PostgreSQL [env: PODIUM_DATABASE_URL].",
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [env: PODIUM_HOST].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [env: PODIUM_PORT].")] = None,
    log_format: Annotated[
        str | None,
        typer.Option(help="text, or json: a line per unit of work [env: PODIUM_LOG_FORMAT]."),
    ] = None,
) -> None:
    """Run the Podium server (blocks until stopped)."""
    settings = Settings.from_env(
        database=db, database_url=database_url, host=host, port=port, log_format=log_format
    )
    busy = _port_in_use(settings.host, settings.port)
    if busy:
        _fail(
            f"cannot listen on {settings.host}:{settings.port}: {busy} (another Podium?); "
            "choose another port with --port or PODIUM_PORT",
        )
    # Imported here so that the other commands start fast and work without the server's
    # dependencies; through importlib because the server module is built separately.
    try:
        module = importlib.import_module("podium.server.main")
    except ImportError as exc:
        _fail(f"the Podium server cannot be loaded: {exc}")
    serve = cast(Callable[[Settings], None], module.serve)
    serve(settings)


def _port_in_use(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port``, or None if it can. Checked before the
    server starts, so that a busy port is one clear line rather than a logged traceback."""
    if port == 0:
        return None
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # As uvicorn sets it: a port in TIME_WAIT from a server just stopped counts free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        return "the port is already in use" if exc.errno == errno.EADDRINUSE else str(exc)
    return None


def _setup_logging(level: str, as_json: bool) -> logging.Handler:
    """Log the worker's lines to stderr; returns the handler so that the caller can remove it."""
    from podium.observability.logs import setup_logging

    # On Podium's logger, not the root one: an embedding program (or pytest) keeps its own.
    return setup_logging("json" if as_json else "text", level, logger="podium")


@app.command()
def worker(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="module:function; a module, to run all its @worker_task functions; or a "
            "file (greeter.py, greeter.py:hello)."
        ),
    ],
    server: Annotated[
        str,
        typer.Option(
            "--server",
            envvar="PODIUM_SERVER",
            help="Base URL of the Podium server; several instances separated by commas.",
        ),
    ] = DEFAULT_SERVER,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Tasks at once per type (default: each handler's).")
    ] = None,
    worker_id: Annotated[str | None, typer.Option(help="Default: host-pid-random.")] = None,
    poll_timeout_ms: Annotated[int | None, typer.Option(min=0, help="Long-poll timeout.")] = None,
    burst: Annotated[bool, typer.Option(help="Run what is queued, then exit.")] = False,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    as_json: JsonOpt = False,
) -> None:
    """Run task handlers until Ctrl-C (the first finishes in-flight tasks, the second quits)."""
    from podium.gc_tuning import tune_for_service
    from podium.worker.registry import WorkerTaskSpec, load_tasks
    from podium.worker.runner import WorkerRunner

    # ``podium worker examples.order.workers`` must import from the directory it is run in,
    # as ``python -m`` would.
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    specs: list[WorkerTaskSpec] = []
    for target in targets:
        try:
            specs.extend(load_tasks(target))
        except (ImportError, LookupError) as exc:
            _fail(f"cannot load {target}: {exc}", code=2)
    try:
        runner = WorkerRunner(
            server, specs, worker_id, concurrency=concurrency, poll_timeout_ms=poll_timeout_ms
        )
    except ValueError as exc:
        _fail(str(exc), code=2)
    handler = _setup_logging(log_level, as_json)
    tune_for_service()  # the handlers' modules are loaded: they live as long as the worker
    try:
        runner.run(burst=burst)
    except KeyboardInterrupt:
        # Quit now means now: do not wait for sync handlers still running in threads (the
        # interpreter would join them). Their tasks' leases expire and are handed out again.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    finally:
        logging.getLogger("podium").removeHandler(handler)


# -- definitions ---------------------------------------------------------------------------------


def _definitions(data: Any, source: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(task_defs, workflow_defs)`` found in one file's JSON."""
    if isinstance(data, dict) and ("taskDefs" in data or "workflows" in data):
        task_defs = data.get("taskDefs") or []
        workflows = data.get("workflows") or []
        if not isinstance(task_defs, list) or not isinstance(workflows, list):
            raise typer.BadParameter(f"{source}: taskDefs and workflows must be lists")
        return list(task_defs), list(workflows)
    items = data if isinstance(data, list) else [data]
    task_defs, workflows = [], []
    for item in items:
        if not isinstance(item, dict) or not item.get("name"):
            raise typer.BadParameter(
                f"{source}: expected a workflow definition, a list of task definitions or "
                '{"taskDefs": [...], "workflows": [...]}'
            )
        (workflows if "tasks" in item else task_defs).append(item)
    return task_defs, workflows


@app.command()
def register(
    files: Annotated[list[Path], typer.Argument(help="JSON files with definitions.", exists=True)],
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
    strict: Annotated[bool, typer.Option(help="Refuse definitions with warnings (CI).")] = False,
) -> None:
    """Register task and workflow definitions (task definitions first); print warnings."""
    task_defs: list[dict[str, Any]] = []
    workflows: list[dict[str, Any]] = []
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"{path}: {exc}") from None
        found = _definitions(data, str(path))
        task_defs.extend(found[0])
        workflows.extend(found[1])
    with _client(server) as client:
        warnings = client.register_task_defs(task_defs, strict=strict) if task_defs else []
        for d in workflows:
            warnings += [f"{d['name']}: {w}" for w in client.register_workflow(d, strict=strict)]
    if as_json:
        _echo_json(
            {
                "taskDefs": [d["name"] for d in task_defs],
                "workflows": [
                    {"name": d["name"], "version": d.get("version", 1)} for d in workflows
                ],
                "warnings": warnings,
            }
        )
        return
    print_warnings(warnings)
    out = _stdout()
    for name in (str(d["name"]) for d in task_defs):
        out.print(Text.assemble("registered task ", (name, "bold")))
    for d in workflows:
        out.print(
            Text.assemble(
                "registered workflow ", (str(d["name"]), "bold"), f" v{d.get('version', 1)}"
            )
        )
    if not task_defs and not workflows:
        out.print("nothing to register")


# The run commands live in their own module; they are ``podium start``, not ``podium runs start``.
app.registered_commands += runs_app.registered_commands
app.command("trace")(trace)


def main() -> None:
    """Entry point of the ``podium`` command."""
    app(prog_name="podium")
