"""``podium rerun --service S --status FAILED --since 2h``: recovery in bulk.

The server's dry run lists the runs the filter picks; once confirmed (or with ``--yes``)
the command retries exactly the runs listed, a few per request, with a progress bar, and
sends the filter along so that a run retried by someone else meanwhile is refused, not
retried twice.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from podium.cli_output import (
    client as _client,
    echo_json as _echo_json,
    local_time as _when,
    status_text as _status,
    stderr as _stderr,
    stdout as _stdout,
)
from podium.client import PodiumClient

__all__ = [
    "DryRunOpt",
    "ReasonOpt",
    "ServiceOpt",
    "SinceOpt",
    "StatusOpt",
    "UntilOpt",
    "WorkflowOpt",
    "YesOpt",
    "bulk_filter",
    "bulk_rerun",
]

ServiceOpt = Annotated[
    str | None, typer.Option(help="Bulk: runs whose failure is blamed on this service.")
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option("--status", help="Bulk: run status to retry (repeat for more; default FAILED)."),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(help="Bulk: runs that ended since: '2h', '30 minutes', an ISO time or epoch ms."),
]
UntilOpt = Annotated[str | None, typer.Option(help="Bulk: runs that ended until (as --since).")]
WorkflowOpt = Annotated[str | None, typer.Option(help="Bulk: runs of this workflow.")]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Bulk: runs whose reason contains this text.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Bulk: retry without asking.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Bulk: list the runs, retry none.")]

_CHUNK = 10
_REASON_WIDTH = 60


def bulk_filter(
    service: str | None,
    statuses: list[str] | None,
    since: str | None,
    until: str | None,
    workflow: str | None,
    reason: str | None,
) -> dict[str, Any]:
    """The filter the options give (empty when none is given)."""
    # Times are sent as written: the server reads '2h' against its own clock.
    given = {
        "service": service,
        "status": statuses or None,
        "since": since,
        "until": until,
        "workflow": workflow,
        "reasonContains": reason,
    }
    return {key: value for key, value in given.items() if value is not None}


def _short(text: str | None) -> str:
    value = " ".join((text or "").split())
    return value if len(value) <= _REASON_WIDTH else value[: _REASON_WIDTH - 1] + "…"


def _listing(runs: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("WORKFLOW ID", "WORKFLOW", "STATUS", "SERVICE", "ENDED", "REASON"):
        table.add_column(column, no_wrap=column != "REASON")
    for run in runs:
        table.add_row(
            run["workflowId"],
            run["workflowName"],
            _status(run["status"]),
            run.get("service") or "-",
            _when(run.get("endTime"), short=True),
            _short(run.get("reason")),
        )
    return table


def _retry(client: PodiumClient, ids: list[str], flt: dict[str, Any]) -> dict[str, Any]:
    retried: list[str] = []
    refused: dict[str, str] = {}
    columns = (TextColumn("retrying"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=_stderr(), transient=True) as progress:
        bar = progress.add_task("retry", total=len(ids))
        for at in range(0, len(ids), _CHUNK):
            chunk = ids[at : at + _CHUNK]
            answer = client.bulk_rerun({"runIds": chunk, "filter": flt})
            retried.extend(answer["retried"])
            refused.update(answer["refused"])
            progress.advance(bar, len(chunk))
    return {"retried": retried, "refused": refused}


def bulk_rerun(
    server: str,
    flt: dict[str, Any],
    *,
    yes: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """List the runs ``flt`` picks, ask, retry them, and sum up; exit 1 if any was refused."""
    if as_json and not (yes or dry_run):
        raise typer.BadParameter("with --json, give --yes or --dry-run", param_hint="--json")
    with _client(server) as client:
        listed = client.bulk_rerun({"filter": flt, "dryRun": True})
        runs: list[dict[str, Any]] = listed["runs"]
        if not as_json:
            _show(listed)
        if dry_run or not runs:
            if as_json:
                _echo_json(listed)
            return
        if not yes:
            typer.confirm(f"Retry these {len(runs)} runs?", abort=True)
        outcome = _retry(client, listed["runIds"], listed["filter"])
    if as_json:
        _echo_json({**listed, **outcome})
    else:
        _summary(outcome, len(runs))
    if outcome["refused"]:
        raise typer.Exit(1)


def _show(listed: dict[str, Any]) -> None:
    runs = listed["runs"]
    if not runs:
        _stdout().print("No run matches the filter: nothing to retry.")
        return
    _stdout().print(_listing(runs))
    more = " (the list stops there: more runs may match; narrow the filter)"
    _stdout().print(f"{len(runs)} runs would be retried{more if listed['truncated'] else ''}.")


def _summary(outcome: dict[str, Any], listed: int) -> None:
    refused: dict[str, str] = outcome["refused"]
    _stdout().print(f"Retried {len(outcome['retried'])} of {listed} runs.")
    if refused:
        table = Table("WORKFLOW ID", "REFUSED BECAUSE", box=box.SIMPLE_HEAD)
        for run_id, why in refused.items():
            table.add_row(run_id, why)
        _stdout().print(f"{len(refused)} refused:")
        _stdout().print(table)
