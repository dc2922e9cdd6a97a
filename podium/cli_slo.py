"""``podium slo ...``: SLOs as data (apply them from files), their status, and Prometheus rules.

``rules`` writes recording and multi-window, multi-burn-rate alerting rules for the SLOs of a
file or folder (``-f``) or of the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from podium.cli_output import JsonOpt, ServerOpt, echo_json, fail, stderr, stdout
from podium.client import DEFAULT_SERVER, PodiumClientError
from podium.errors import PodiumError
from podium.slo import files
from podium.slo.model import Slo, parse_slo
from podium.slo.remote import SlosClient
from podium.slo.rules import build_rules

__all__ = ["slo_app"]

slo_app = typer.Typer(
    help="SLOs: latency and success objectives, their error budgets, Prometheus rules.",
    no_args_is_help=True,
)

FileOpt = Annotated[
    Path, typer.Option("-f", "--file", help="An SLO file (YAML or JSON) or folder.")
]


@contextmanager
def _client(server: str) -> Iterator[SlosClient]:
    try:
        with SlosClient(server) as api:
            yield api
    except PodiumClientError as exc:
        fail(str(exc))


def _load(path: Path) -> list[Slo]:
    try:
        return files.load_path(path)
    except PodiumError as exc:
        fail(f"{path}: {exc.message}", 2)


def _percent(value: float | None) -> str:
    # Four significant digits tell 99.95% from 99.9%; a budget overspent a hundred times
    # reads -9900%, not in exponent form.
    if value is None:
        return "-"
    if abs(value) >= 10:
        return f"{value * 100:.0f}%"
    return f"{float(f'{value * 100:.4g}'):g}%"


def _objective(slo: dict[str, Any]) -> str:
    objective = slo["objective"]
    if "latency" in objective:
        latency = objective["latency"]
        return f"p{latency['percentile']:g} <= {latency['thresholdMs']} ms"
    return f"{_percent(objective['success']['target'])} succeed"


def _covers(slo: dict[str, Any]) -> str:
    if slo.get("step"):
        return f"step {slo['workflow']}.{slo['step']}"
    if slo.get("service"):
        where = f" in {slo['workflow']}" if slo.get("workflow") else ""
        return f"service {slo['service']}{where}"
    return f"workflow {slo['workflow']}"


@slo_app.command("list")
def list_(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow's SLOs.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service's SLOs.")] = None,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Every SLO with its value, error budget left and fastest burn now."""
    with _client(server) as api:
        found = api.list_slos(workflow, service)
    if as_json:
        echo_json(found)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("SLO", "covers", "objective", "window", "value", "budget left", "burn 1h"):
        table.add_column(column)
    for slo in found:
        status = slo["status"]
        table.add_row(
            slo["name"],
            _covers(slo),
            _objective(slo),
            slo["window"],
            _percent(status["value"]),
            _percent(status["errorBudgetRemaining"]),
            f"{status['burnRates']['1h']['burnRate']:.3g}x",
        )
    stdout().print(table)


@slo_app.command()
def show(
    name: Annotated[str, typer.Argument(help="The SLO's name.")],
    version: Annotated[int | None, typer.Option(help="A version; default the latest.")] = None,
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """One SLO with its status now, as JSON."""
    with _client(server) as api:
        echo_json(api.get_slo(name, version))


@slo_app.command()
def apply(file: FileOpt, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False) -> None:
    """Register every SLO in the file or folder (all or none); a changed one gets a new
    version."""
    slos = _load(file)
    with _client(server) as api:
        result = api.push_slos(slos)
    if as_json:
        echo_json(result)
        return
    for label in result.get("registered", []):
        typer.echo(f"registered {label}")
    for label in result.get("unchanged", []):
        typer.echo(f"unchanged  {label}")


@slo_app.command()
def rules(
    file: Annotated[
        Path | None,
        typer.Option("-f", "--file", help="SLOs from this file or folder, not from the server."),
    ] = None,
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Prometheus rules YAML: error ratios per window, and burn-rate alerts (14.4x over 1h and
    5m, 6x over 6h and 30m, 1x over 3d and 6h)."""
    if file is not None:
        slos = _load(file)
    else:
        with _client(server) as api:
            slos = [
                parse_slo({k: v for k, v in s.items() if k not in ("version", "status")})
                for s in api.list_slos()
            ]
    built = build_rules(slos)
    for line in built.skipped:
        stderr().print(f"skipped {line}")
    for line in built.notes:
        stderr().print(f"note: {line}")
    typer.echo(built.to_yaml(), nl=False)
