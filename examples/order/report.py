"""What the order demo shows: the live table of runs, and how each run ended."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from examples.order.orders import STEPS, Run, check_outcome, failure_reason, undone_steps

__all__ = [
    "STATUS_STYLES",
    "current_task",
    "print_results",
    "progress_table",
    "tasks_done",
    "watch",
]

STATUS_STYLES = {
    "COMPLETED": "bold green",
    "FAILED": "bold red",
    "TIMED_OUT": "bold red",
    "TERMINATED": "bold red",
    "COMPENSATED": "bold yellow",
    "COMPENSATION_FAILED": "bold red",
    "COMPENSATING": "yellow",
    "RUNNING": "yellow",
    "PAUSED": "magenta",
}
_INDENT = " " * 16


def current_task(run: Run) -> str:
    """The step the run is at: the last task not finished yet, else the last one (and how it ended)."""
    tasks = run.tasks
    if not tasks:
        return "" if run.finished else "waiting for the first task"
    active = [t for t in tasks if t.get("status") in ("SCHEDULED", "IN_PROGRESS")]
    task = (active or tasks)[-1]
    return f"{task.get('referenceTaskName', '?')} · {task.get('status', '?')}"


def tasks_done(run: Run) -> str:
    """How many of the workflow's steps have completed, as ``done/total``."""
    done = {t.get("referenceTaskName") for t in run.tasks if t.get("status") == "COMPLETED"}
    return f"{len(done & set(STEPS))}/{len(STEPS)}"


def progress_table(runs: Sequence[Run], title: str) -> Table:
    """The live view: one row per run."""
    table = Table(title=title, title_justify="left")
    table.add_column("run")
    table.add_column("scenario")
    table.add_column("status")
    table.add_column("current task")
    table.add_column("done", justify="right")
    for run in runs:
        table.add_row(
            run.order.correlation_id,
            run.order.scenario,
            Text(run.status, style=STATUS_STYLES.get(run.status, "")),
            current_task(run),
            tasks_done(run),
        )
    return table


def watch(
    runs: Sequence[Run],
    poll: Callable[[Run], None],
    check_alive: Callable[[], None],
    console: Console,
    title: str,
    timeout: float,
) -> None:
    """Poll every unfinished run and redraw the table until all are done or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    with Live(progress_table(runs, title), console=console, refresh_per_second=8) as live:
        while True:
            check_alive()
            for run in runs:
                if not run.finished:
                    poll(run)
            live.update(progress_table(runs, title))
            if all(run.finished for run in runs) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
    # Live leaves the cursor at the end of the table's last line, not below it.
    console.print()


def _compact(output: Any) -> str:
    """A run's output as ``key=value`` pairs: shorter than JSON, and still exact."""
    if not isinstance(output, dict):
        return json.dumps(output)
    return "  ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in output.items()
    )


def whom_to_call(workflow: dict[str, Any]) -> str:
    """The failed step and its service's people, from the run's ``failure`` object."""
    failure = workflow.get("failure")
    if not isinstance(failure, dict):
        return "no failure record"
    where = f"failed at {failure.get('taskReferenceName', '?')}"
    if failure.get("insidePodium"):
        return f"{where}, inside Podium itself"
    if not failure.get("service"):
        return f"{where}; no service is named for it"
    people = ", ".join(
        f"{label} {failure[key]}"
        for key, label in (("owner", "owner"), ("contact", "contact"), ("onCall", "on call"))
        if failure.get(key)
    )
    return f"{where} · service {failure['service']} ({people or 'no owner on record'})"


def what_was_undone(workflow: dict[str, Any]) -> str:
    """The compensation record in a line: which steps were undone, by what, and how it went."""
    steps = undone_steps(workflow)
    if not steps:
        return "undone: nothing (no step had completed before the failure)"
    parts = []
    for step in steps:
        found = step.get("output")
        output: dict[str, Any] = found if isinstance(found, dict) else {}
        detail = ""
        if output.get("reservationId"):
            detail = (
                f", {output['reservationId']}: {output.get('released', '?')} units back in stock"
            )
        attempts = step.get("attempts", "?")
        parts.append(
            f"{step.get('referenceTaskName')} by {step.get('name')} {step.get('status')}"
            f"{detail} ({attempts} attempt{'' if attempts == 1 else 's'})"
        )
    return "undone: " + "; ".join(parts)


def print_results(runs: Sequence[Run], console: Console, problems: list[str]) -> list[str]:
    """Print how each run ended; returns ``problems`` plus the runs that did not end as expected."""
    problems = list(problems)
    console.print()
    console.print(Text("Results", style="bold"))
    for run in runs:
        order = run.order
        problem = check_outcome(order, run.snapshot)
        mark = Text(
            "  ✔ " if problem is None else "  ✘ ", style="green" if problem is None else "red"
        )
        status = Text(f"{run.status:<11}", style=STATUS_STYLES.get(run.status, ""))
        head = Text.assemble(mark, f"{order.correlation_id:<9} ", status, " ")
        if run.status == "COMPLETED":
            console.print(Text.assemble(head, _compact(run.snapshot.get("output"))))
        elif run.finished:
            console.print(Text.assemble(head, f"reason: {failure_reason(run.snapshot)}"))
            console.print(f"{_INDENT}{whom_to_call(run.snapshot)}")
            runbook = (run.snapshot.get("failure") or {}).get("runbook")
            if runbook:
                console.print(f"{_INDENT}runbook {runbook}")
            if run.status in ("COMPENSATED", "COMPENSATION_FAILED"):
                console.print(f"{_INDENT}{what_was_undone(run.snapshot)}")
        else:
            console.print(Text.assemble(head, "did not finish in time"))
        if problem is not None:
            console.print(Text(f"      unexpected: {problem}", style="red"))
            problems.append(f"{order.correlation_id} ({order.scenario}): {problem}")
    console.print()
    if problems:
        for problem in problems:
            console.print(Text(f"  ✘ {problem}", style="red"))
        console.print(Text(f"{len(problems)} things did not go as expected.", style="bold red"))
    else:
        shipped = sum(1 for run in runs if run.order.expect_status == "COMPLETED")
        console.print(
            Text(
                f"All {len(runs)} runs ended as expected: {shipped} shipped (outage included), "
                f"{len(runs) - shipped} compensated for the right reason.",
                style="bold green",
            )
        )
    return problems
