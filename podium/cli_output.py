"""Output and client plumbing shared by the ``podium`` command and its sub-commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from podium.cli_auth import unauthenticated
from podium.client import PodiumClient, PodiumClientError

__all__ = [
    "JsonOpt",
    "ServerOpt",
    "client",
    "echo_json",
    "fail",
    "json_option",
    "local_time",
    "status_text",
    "stderr",
    "stdout",
]

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="PODIUM_SERVER", help="Base URL of the Podium server."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

_STATUS_STYLE = {
    "COMPLETED": "green",
    "RUNNING": "cyan",
    "IN_PROGRESS": "cyan",
    "SCHEDULED": "dim",
    "PAUSED": "magenta",
    "FAILED": "red",
    "FAILED_WITH_TERMINAL_ERROR": "red",
    "TIMED_OUT": "red",
    "TERMINATED": "yellow",
    "COMPENSATING": "magenta",
    "COMPENSATED": "yellow",
    "COMPENSATION_FAILED": "bold red",
    "CANCELED": "yellow",
    "SKIPPED": "dim",
}


def status_text(status: str | None) -> Text:
    """A run's or task's status, coloured by what it means."""
    value = status or "?"
    return Text(value, style=_STATUS_STYLE.get(value, ""))


def local_time(ms: Any, short: bool = False) -> str:
    """Local time of an epoch-ms value; ``short`` drops today's date, to save columns."""
    if not isinstance(ms, int | float) or ms <= 0:
        return ""
    moment = datetime.fromtimestamp(ms / 1000)
    if short and moment.date() == datetime.now().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M" if short else "%Y-%m-%d %H:%M:%S")


def stdout() -> Console:
    # Made per call, not at import: the console must write to whatever sys.stdout is now
    # (CliRunner swaps it in tests). Piped into grep or a file, tables get room instead of
    # rich's 80 columns, so that ids are not folded.
    return Console(width=None if sys.stdout.isatty() else 200)


def stderr() -> Console:
    # soft_wrap: an error message stays one line, so that it can be grepped.
    return Console(stderr=True, soft_wrap=True)


def json_option(raw: str, option: str) -> Any:
    """The JSON an option holds: inline, or ``@file.json``."""
    text = raw
    if raw.startswith("@"):
        try:
            text = Path(raw[1:]).read_text()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot read {raw[1:]}: {exc.strerror}", param_hint=option
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    stderr().print(Text(f"error: {message}", style="bold red"))
    raise typer.Exit(code)


@contextmanager
def client(server: str) -> Iterator[PodiumClient]:
    """A client whose server errors become a red message on stderr and exit code 1."""
    try:
        with PodiumClient(server) as api:
            yield api
    except PodiumClientError as exc:
        if exc.status == 401:
            fail(unauthenticated(server, exc.message))
        fail(str(exc))
