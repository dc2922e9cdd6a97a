"""``podium trace <correlation-id>``: one business transaction as a tree and a timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from podium.cli_output import client, echo_json, stdout
from podium.client import DEFAULT_SERVER

__all__ = ["render_trace", "trace"]

_STYLE = {
    "COMPLETED": "green",
    "DONE": "green",
    "DELIVERED": "green",
    "PUBLISHED": "green",
    "RUNNING": "cyan",
    "IN_PROGRESS": "cyan",
    "SCHEDULED": "dim",
    "PENDING": "yellow",
    "FAILED": "bold red",
    "FAILED_WITH_TERMINAL_ERROR": "bold red",
    "TIMED_OUT": "bold red",
    "DEAD": "bold red",
    "DEAD_LETTERED": "bold red",
    "TERMINATED": "yellow",
    "CANCELED": "yellow",
}
_ICON = {"workflow": "▣", "task": "•", "event": "✉", "delivery": "→"}


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]


def _line(node: dict[str, Any], start: int) -> Text:
    text = Text.assemble(
        (f"+{(node['time'] - start) / 1000:7.3f}s ", "dim"),
        f"{_ICON.get(node['kind'], '?')} ",
        (node["label"], "bold" if node["kind"] in ("workflow", "event") else ""),
        "  ",
        (node["status"], _STYLE.get(node["status"], "")),
    )
    if node.get("service"):
        text.append(f"  [{node['service']}]", style="magenta")
    reason = node.get("reason") or node.get("lastError")
    if reason and node["status"] not in ("COMPLETED", "DONE"):
        text.append(f"  {reason}", style="red")
    return text


def render_trace(trace: dict[str, Any], console: Console) -> None:
    """The trace as a causal tree (children under their cause) and what to look at."""
    nodes = {node["id"]: node for node in trace["nodes"]}
    start = min((node["time"] for node in trace["nodes"]), default=0)
    status = trace["status"]
    console.print(
        Text.assemble(
            ("trace ", "bold"),
            (trace["correlationId"], "bold cyan"),
            "  ",
            (status, _STYLE.get(status, "")),
            f"  started {_clock(start)} UTC, services: {', '.join(trace['services']) or '-'}",
        )
    )

    def grow(branch: Tree, node_id: str) -> None:
        node = nodes[node_id]
        child = branch.add(_line(node, start))
        for child_id in node["children"]:
            grow(child, child_id)

    root = Tree(Text("causal graph", style="dim"), guide_style="dim")
    for root_id in trace["roots"]:
        grow(root, root_id)
    console.print(root)
    stopped = trace.get("stoppedAt")
    if stopped is None:
        console.print(Text("every step completed and every event was delivered", style="green"))
        return
    what = {
        "failed": "failed",
        "dead_lettered": "dead-lettered (gave up delivering)",
        "undelivered": "not delivered yet",
        "waiting": "still waiting",
    }[stopped["kind"]]
    who = f" in service {stopped['service']}" if stopped.get("service") else ""
    message = f"stopped at: {stopped['label']} {what}{who}"
    if stopped.get("reason"):
        message += f": {stopped['reason']}"
    console.print(Text(message, style="bold red" if status == "FAILED" else "yellow"))


def trace(
    correlation_id: Annotated[str, typer.Argument(help="The business transaction's id.")],
    server: Annotated[
        str,
        typer.Option("--server", envvar="PODIUM_SERVER", help="Base URL of the Podium server."),
    ] = DEFAULT_SERVER,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Rebuild one business transaction across workflows, tasks, events and services."""
    with client(server) as api:
        found = api.trace(correlation_id)
    if as_json:
        echo_json(found)
        return
    render_trace(found, stdout())
    # A transaction its saga undid did not go through either: scripts see both as a failure.
    if found["status"] in ("FAILED", "COMPENSATED"):
        raise typer.Exit(1)
