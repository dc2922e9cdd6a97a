"""Output and client plumbing shared by the ``podium`` command and its sub-commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
    "stderr",
    "stdout",
]

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="PODIUM_SERVER", help="Base URL of the Podium server."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


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
