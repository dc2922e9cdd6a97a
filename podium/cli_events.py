"""``podium events ...`` and ``podium handlers ...``: the event bus from a shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from podium.cli_output import client, echo_json, fail, json_option, stdout
from podium.client import DEFAULT_SERVER

__all__ = ["events_app", "handlers_app"]

events_app = typer.Typer(
    help="The event bus: publish, list events, dead letters and replay.", no_args_is_help=True
)
handlers_app = typer.Typer(
    help="Event handlers: on an event, if a condition holds, run actions.", no_args_is_help=True
)

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="PODIUM_SERVER", help="Base URL of the Podium server."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_DELIVERY_STYLE = {"DONE": "green", "PENDING": "cyan", "DEAD": "bold red"}


@events_app.command("publish")
def publish(
    topic: Annotated[str, typer.Argument(help="The topic, e.g. order.shipped.")],
    payload: Annotated[str, typer.Option(help="JSON payload, or @file.json.")] = "{}",
    event_id: Annotated[str | None, typer.Option("--id", help="Event id (de-duplicates).")] = None,
    type: Annotated[str | None, typer.Option(help="Event type (default: the topic).")] = None,
    source: Annotated[str | None, typer.Option(help="The publishing service.")] = None,
    correlation_id: Annotated[str | None, typer.Option("--correlation-id")] = None,
    causation_id: Annotated[str | None, typer.Option("--causation-id")] = None,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Publish an event on TOPIC."""
    body = json_option(payload, "--payload")
    with client(server) as api:
        result = api.publish_event(
            topic,
            body,
            event_id=event_id,
            type=type,
            source=source,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
    if as_json:
        echo_json(result)
        return
    what = "duplicate of an event already kept" if result["duplicate"] else "published"
    stdout().print(f"{what}: {result['id']} ({result['deliveries']} deliveries)")


@events_app.command("list")
def list_events(
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    correlation_id: Annotated[str | None, typer.Option("--correlation-id")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Events in the order they were published."""
    with client(server) as api:
        events = api.list_events(topic=topic, correlation_id=correlation_id, limit=limit)
    if as_json:
        echo_json(events)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("seq", "id", "topic", "type", "source", "correlation id"):
        table.add_column(column)
    for event in events:
        table.add_row(
            str(event["seq"]),
            event["id"],
            event["topic"],
            event["type"],
            event.get("source") or "",
            event.get("correlationId") or "",
        )
    stdout().print(table)


@events_app.command("show")
def show(
    event_id: Annotated[str, typer.Argument(help="The event's id.")],
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """One event and its delivery to each subscriber."""
    with client(server) as api:
        event = api.get_event(event_id)
    if as_json:
        echo_json(event)
        return
    out = stdout()
    out.print(Text(f"{event['type']} on {event['topic']}", style="bold"), f"({event['id']})")
    out.print(f"  payload  {json.dumps(event['payload'])}")
    for delivery in event["deliveries"]:
        _print_delivery(delivery)


def _print_delivery(delivery: dict[str, Any]) -> None:
    status = delivery["status"]
    line = Text.assemble(
        f"  {delivery['kind']:8} {delivery['subscriber']:24} ",
        (status, _DELIVERY_STYLE.get(status, "")),
        f"  attempts {delivery['attempts']}/{delivery['maxAttempts']}",
    )
    if delivery.get("lastError"):
        line.append(f"  {delivery['lastError']}", style="red")
    stdout().print(line)


@events_app.command("dead-letters")
def dead_letters(
    subscriber: Annotated[str | None, typer.Option(help="Only this handler/subscription.")] = None,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Deliveries that failed every attempt."""
    with client(server) as api:
        letters = api.dead_letters(subscriber)
    if as_json:
        echo_json(letters)
        return
    if not letters:
        stdout().print("no dead letters")
    for letter in letters:
        stdout().print(Text(letter["eventId"], style="bold"))
        _print_delivery(letter)


@events_app.command("replay")
def replay(
    event_id: Annotated[str | None, typer.Option("--event", help="Only this event.")] = None,
    subscriber: Annotated[str | None, typer.Option(help="Only this handler/subscription.")] = None,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Deliver dead letters again, with fresh attempts."""
    with client(server) as api:
        count = api.replay_dead_letters(event_id, subscriber)
    if as_json:
        echo_json({"replayed": count})
        return
    stdout().print(f"replayed {count} dead letter(s)")


def _read_handlers(path: Path) -> list[dict[str, Any]]:
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    found: list[dict[str, Any]] = []
    for file in files:
        data = json_option(f"@{file}", "PATH")
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(item, dict) for item in items):
            raise typer.BadParameter(f"{file} must hold a handler object or a list of them")
        found.extend(items)
    if not found:
        raise typer.BadParameter(f"{path} holds no handlers", param_hint="PATH")
    return found


@handlers_app.command("apply")
def apply(
    path: Annotated[Path, typer.Argument(help="A JSON file, or a folder of them.")],
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Add the handlers in PATH, replacing those that exist."""
    handlers = _read_handlers(path)
    with client(server) as api:
        existing = {h["name"] for h in api.list_event_handlers()}
        for handler in handlers:
            api.add_event_handler(handler, update=handler.get("name") in existing)
    stdout().print(f"applied {len(handlers)} handler(s)")


@handlers_app.command("list")
def list_handlers(server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False) -> None:
    """Every event handler, active or not."""
    with client(server) as api:
        handlers = api.list_event_handlers()
    if as_json:
        echo_json(handlers)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("name", "event", "condition", "actions", "active"):
        table.add_column(column)
    for h in handlers:
        table.add_row(
            h["name"],
            h["event"],
            h.get("condition") or "",
            ", ".join(a["action"] for a in h["actions"]),
            Text("yes", style="green") if h.get("active", True) else Text("no", style="dim"),
        )
    stdout().print(table)


def _set_active(name: str, active: bool, server: str) -> None:
    with client(server) as api:
        found = [h for h in api.list_event_handlers() if h["name"] == name]
        if not found:
            fail(f"no event handler '{name}'")
        api.add_event_handler({**found[0], "active": active}, update=True)
    stdout().print(f"{'enabled' if active else 'disabled'} handler {name}")


@handlers_app.command("disable")
def disable(name: Annotated[str, typer.Argument()], server: ServerOpt = DEFAULT_SERVER) -> None:
    """Stop a handler from receiving events (its definition is kept)."""
    _set_active(name, False, server)


@handlers_app.command("enable")
def enable(name: Annotated[str, typer.Argument()], server: ServerOpt = DEFAULT_SERVER) -> None:
    """Let a disabled handler receive events again."""
    _set_active(name, True, server)


@handlers_app.command("remove")
def remove(name: Annotated[str, typer.Argument()], server: ServerOpt = DEFAULT_SERVER) -> None:
    """Delete a handler."""
    with client(server) as api:
        api.remove_event_handler(name)
    stdout().print(f"removed handler {name}")
