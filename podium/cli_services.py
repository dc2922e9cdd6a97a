"""``podium services ...``: the service registry (owners, contacts) and circuit breakers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from podium.cli_output import JsonOpt, ServerOpt, client, echo_json, fail, stdout
from podium.client import DEFAULT_SERVER

__all__ = ["services_app"]

services_app = typer.Typer(
    help="The service registry: who owns each service, whom to call, its circuit breaker. "
    "Without a sub-command: list them.",
    invoke_without_command=True,
)
_BREAKER_STYLE = {"CLOSED": "green", "HALF_OPEN": "yellow", "OPEN": "bold red"}


def _read_services(path: Path) -> list[dict[str, Any]]:
    """Services from a JSON file (one or a list) or from every ``*.json`` in a folder."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise typer.BadParameter(f"{path} holds no .json files", param_hint="PATH")
    found: list[dict[str, Any]] = []
    for file in files:
        try:
            data = json.loads(file.read_text())
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {file}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{file} is not valid JSON: {exc}") from None
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(item, dict) for item in items):
            raise typer.BadParameter(f"{file} must hold a service object or a list of them")
        found.extend(items)
    return found


@services_app.command("apply")
def apply(
    path: Annotated[Path, typer.Argument(help="A JSON file, or a folder of them.")],
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Register (or update) the services described in PATH."""
    services = _read_services(path)
    with client(server) as api:
        names = api.register_services(services)
    if as_json:
        echo_json({"registered": names})
        return
    stdout().print(f"registered {len(names)} service(s): {', '.join(names)}")


@services_app.command("list")
def list_services(server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False) -> None:
    """Every service with its owner, contact and breaker state."""
    with client(server) as api:
        services = api.list_services()
    if as_json:
        echo_json(services)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("service", "owner", "contact", "on call", "breaker"):
        table.add_column(column)
    for service in services:
        state = (service.get("breaker") or {}).get("state", "")
        table.add_row(
            service["name"],
            service.get("owner", ""),
            service.get("contact", ""),
            service.get("onCall", ""),
            Text(state or "-", style=_BREAKER_STYLE.get(state, "dim")),
        )
    stdout().print(table)


@services_app.callback()
def services(
    ctx: typer.Context, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """The service registry: who owns each service, whom to call, its circuit breaker.
    Without a sub-command: list them."""
    # Listing is what a group named on its own is most often asked for.
    if ctx.invoked_subcommand is None:
        list_services(server, as_json)


@services_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The service's name.")],
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """One service: whom to call, and its breaker's state and latest transitions."""
    with client(server) as api:
        service = api.get_service(name)
    if as_json:
        echo_json(service)
        return
    out = stdout()
    out.print(Text(service["name"], style="bold"))
    for label, key in (
        ("owner", "owner"),
        ("contact", "contact"),
        ("on call", "onCall"),
        ("docs", "docsUrl"),
        ("runbook", "runbook"),
    ):
        if service.get(key):
            out.print(f"  {label:8} {service[key]}")
    for code, link in (service.get("runbooks") or {}).items():
        out.print(f"  runbook  {code}: {link}")
    for channel in service.get("notifications") or []:
        events = ", ".join(channel.get("events") or ["every event"])
        target = channel.get("to") or channel.get("url")
        signed = " (signed)" if channel.get("secretSet") else ""
        out.print(f"  notifies {channel['kind']} {target}{signed}: {events}")
    breaker = service.get("breaker")
    if breaker is None:
        out.print("  no circuit breaker")
        return
    state = breaker["state"]
    out.print(Text.assemble("  breaker  ", (state, _BREAKER_STYLE.get(state, ""))))
    out.print(
        f"           {breaker['consecutiveFailures']} consecutive failures, "
        f"{breaker['recentFailures']} of the last {breaker['recentCalls']} calls failed"
    )
    for event in breaker.get("transitions", []):
        out.print(f"           {event['from']} -> {event['to']}: {event['reason']}")


@services_app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="The service's name.")],
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Remove a service from the registry."""
    with client(server) as api:
        api.delete_service(name)
    stdout().print(f"deleted service {name}")


@services_app.command("reset-breaker")
def reset_breaker(
    name: Annotated[str, typer.Argument(help="The service's name.")],
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Close a service's circuit breaker by hand (say, once its owners report it fixed)."""
    with client(server) as api:
        service = api.reset_breaker(name)
    if "breaker" not in service:
        fail(f"service {name} has no circuit breaker")
    stdout().print(f"breaker of service {name} is {service['breaker']['state']}")
