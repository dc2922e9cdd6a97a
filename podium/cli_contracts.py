"""``podium contracts ...``: the contract registry, the breaking-change check, the catalogue.

Sources (OLD, NEW, SOURCE) are a contract file or folder, or a server URL (``http://...``).
``check`` exits 0 when NEW is safe to merge, 1 on a breaking change without a new major
version (or a version edited in place, or gone down), and 2 when a source cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from podium.client import DEFAULT_SERVER, PodiumClientError
from podium.contracts import catalogue, check, files, report
from podium.contracts.model import Contract
from podium.contracts.remote import ContractsClient, is_server
from podium.errors import PodiumError

__all__ = ["contracts_app"]

contracts_app = typer.Typer(
    help="Contracts: JSON Schemas of tasks, workflows and events; checks for CI.",
    no_args_is_help=True,
)

ServerOpt = Annotated[
    str, typer.Option("--server", envvar="PODIUM_SERVER", help="Base URL of the Podium server.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
EXIT_BREAKING = 1
EXIT_UNREADABLE = 2


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _client(server: str, code: int = 1) -> Iterator[ContractsClient]:
    try:
        with ContractsClient(server) as client:
            yield client
    except PodiumClientError as exc:
        _fail(str(exc), code)


def _load(source: str) -> list[Contract]:
    """Contracts from a path or a server; exit 2 when they cannot be read."""
    try:
        if is_server(source):
            with ContractsClient(source) as client:
                return client.list_contracts()
        return files.load_path(source)
    except PodiumError as exc:
        _fail(f"{source}: {exc.message}", EXIT_UNREADABLE)


@contracts_app.command()
def push(
    path: Annotated[Path, typer.Argument(help="A contract file or folder.")],
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Register every contract in PATH (all or none; a pushed version never changes)."""
    contracts = _load(str(path))
    with _client(server) as client:
        result = client.push_contracts(contracts)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for label in result.get("registered", []):
        typer.echo(f"registered {label}")
    for label in result.get("unchanged", []):
        typer.echo(f"unchanged  {label}")


@contracts_app.command("list")
def list_(
    kind: Annotated[str | None, typer.Option(help="task, workflow or event.")] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions")] = False,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """The server's contracts, at their latest version unless --all-versions."""
    with _client(server) as client:
        found = client.list_contracts(kind, all_versions)
    if as_json:
        typer.echo(json.dumps([c.to_json() for c in found], indent=2))
        return
    for contract in found:
        service = f"  ({contract.service})" if contract.service else ""
        typer.echo(f"{contract.kind:<9} {contract.name:<32} {contract.version}{service}")


@contracts_app.command()
def show(
    kind: Annotated[str, typer.Argument(help="task, workflow or event.")],
    name: Annotated[str, typer.Argument()],
    version: Annotated[str | None, typer.Option(help="1, 1.2 or 1.2.0; default latest.")] = None,
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """One contract as JSON."""
    with _client(server) as client:
        contract = client.get_contract(kind, name, version)
    typer.echo(json.dumps(contract.to_json(), indent=2))


@contracts_app.command()
def pull(
    folder: Annotated[Path, typer.Argument(help="Where to write <kind>/<name>.json files.")],
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Write the server's latest contracts into a folder, to keep under version control."""
    with _client(server) as client:
        found = client.list_contracts()
    for written in files.write_folder(found, folder):
        typer.echo(str(written))


@contracts_app.command("check")
def check_(
    old: Annotated[str, typer.Argument(help="What is deployed: a path or a server URL.")],
    new: Annotated[str, typer.Argument(help="The proposed contracts: a path or a server URL.")],
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Detail only what fails.")] = False,
) -> None:
    """Classify every change from OLD to NEW; exit 1 on a breaking change without a new major
    version, 2 if a source cannot be read, 0 otherwise."""
    result = check.compare(_load(old), _load(new))
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(report.render(result, old, new, verbose=not quiet), nl=False)
    raise typer.Exit(result.exit_code)


@contracts_app.command()
def diff(
    old: Annotated[str, typer.Argument(help="A path or a server URL.")],
    new: Annotated[str, typer.Argument(help="A path or a server URL.")],
    as_json: JsonOpt = False,
) -> None:
    """Every change from OLD to NEW, each marked breaking or compatible (always exits 0
    when both can be read: use `check` to gate a merge)."""
    result = check.compare(_load(old), _load(new))
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    typer.echo(report.render(result, old, new), nl=False)


@contracts_app.command("catalogue")
def catalogue_(
    source: Annotated[str, typer.Argument(help="A contract folder or a server URL.")],
    format: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
) -> None:
    """The score: services, their tasks, workflows, events and contracts, as Markdown or HTML.

    From a server it also lists TaskDefs and workflows; from a folder, the contracts alone."""
    if format not in ("md", "html"):
        raise typer.BadParameter("must be md or html", param_hint="--format")
    if is_server(source):
        with _client(source, EXIT_UNREADABLE) as client:
            text = client.catalogue(format)
    else:
        score = catalogue.Score.build(_load(source))
        text = catalogue.to_html(score) if format == "html" else catalogue.to_markdown(score)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
