"""What the ``podium`` command tells its user along the way: registration warnings, and, while
``start --wait`` waits, the run's progress and the server's word on why it is stuck."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from podium.cli_output import stderr

__all__ = ["RunNotes", "print_warnings", "progress_text"]


def print_warnings(warnings: list[str]) -> None:
    """Each warning on its own line of stderr, so that stdout stays what scripts read."""
    console = stderr()
    for warning in warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))


def progress_text(run: dict[str, Any]) -> str:
    tasks = run.get("tasks") or []
    done = sum(1 for t in tasks if t.get("status") == "COMPLETED")
    current = next(
        (t.get("referenceTaskName") for t in reversed(tasks) if t.get("status") != "COMPLETED"),
        None,
    )
    text = f"{run.get('status', '?')} · {done}/{len(tasks)} tasks done"
    return f"{text} · at {current}" if current else text


class RunNotes:
    """Prints each of a run's ``diagnostics`` ("no worker has polled type 'x'") once, as soon
    as the server reports it, while the command goes on waiting."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or stderr()
        self._seen: set[tuple[str, str]] = set()

    def __call__(self, run: dict[str, Any]) -> None:
        for note in run.get("diagnostics") or []:
            key = (str(note.get("taskId")), str(note.get("kind")))
            if key in self._seen:
                continue
            self._seen.add(key)
            self.console.print(Text(f"warning: {note.get('message')}", style="yellow"))
