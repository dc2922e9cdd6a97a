"""``podium notifications ...``: what was told to whom, what could not be, and replaying it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from podium.cli_output import JsonOpt, ServerOpt, client, echo_json, stdout
from podium.client import DEFAULT_SERVER

__all__ = ["notifications_app"]

notifications_app = typer.Typer(
    help="Notifications sent to services' channels: the delivery log, dead ones, replay.",
    no_args_is_help=True,
)
_STATE_STYLE = {"SENT": "green", "PENDING": "yellow", "DEAD": "bold red"}
LimitOpt = Annotated[int, typer.Option("--limit", help="At most this many, newest first.")]


def _at(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("id", "created", "event", "run", "service", "channel", "state", "tries"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            _at(row["createdAt"]),
            row["event"],
            row.get("runId") or "",
            row.get("service") or "",
            row["channel"],
            Text(row["state"], style=_STATE_STYLE.get(row["state"], "")),
            str(row["attempts"]),
        )
    stdout().print(table)
    for row in rows:
        if row["state"] != "SENT" and row.get("lastError"):
            stdout().print(Text(f"{row['id']}: {row['lastError']}"))


@notifications_app.command("list")
def list_notifications(
    state: Annotated[
        str | None, typer.Option("--state", help="PENDING, SENT or DEAD.", case_sensitive=False)
    ] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Only this run's.")] = None,
    limit: LimitOpt = 50,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """The delivery log: every notification, its channel, state and attempts."""
    with client(server) as api:
        rows = api.list_notifications(state.upper() if state else None, run_id, limit)
    if as_json:
        echo_json(rows)
        return
    _table(rows)


@notifications_app.command("dead")
def dead(
    limit: LimitOpt = 50, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Notifications whose every attempt failed (``replay`` sends one again)."""
    with client(server) as api:
        rows = api.dead_notifications(limit)
    if as_json:
        echo_json(rows)
        return
    _table(rows)


@notifications_app.command("show")
def show(
    notification_id: Annotated[str, typer.Argument(help="The notification's id.")],
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """One notification: its message and every attempt to send it."""
    with client(server) as api:
        row = api.get_notification(notification_id)
    if as_json:
        echo_json(row)
        return
    out = stdout()
    out.print(
        Text.assemble((row["id"], "bold"), "  ", (row["state"], _STATE_STYLE.get(row["state"], "")))
    )
    out.print(Text(f"  {row['message'].get('summary', row['event'])}"))
    service = row["message"].get("service") or {}
    if service.get("runbook"):
        out.print(Text(f"  runbook {service['runbook']}"))
    for attempt in row["attempts"]:
        mark = "ok    " if attempt["ok"] else "failed"
        out.print(Text(f"  {_at(attempt['at'])}  {mark}  {attempt['detail']}"))


@notifications_app.command("replay")
def replay(
    notification_ids: Annotated[list[str], typer.Argument(help="Notification ids.")],
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Send notifications again, with a fresh count of attempts."""
    with client(server) as api:
        for notification_id in notification_ids:
            answer = api.replay_notification(notification_id)
            stdout().print(f"replaying {answer['replayed']} (was {answer['was']})")
