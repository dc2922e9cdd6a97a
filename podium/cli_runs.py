"""The commands that start, show and steer workflow runs: ``start``, ``status``, ``list``,
``terminate``, ``pause``, ``resume``, ``retry``, ``rerun``, ``restart`` and ``signal``."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from podium.cli_feedback import RunNotes, progress_text
from podium.cli_output import (
    JsonOpt,
    ServerOpt,
    client as _client,
    echo_json as _echo_json,
    fail as _fail,
    json_option,
    local_time as _when,
    status_text as _status,
    stderr as _stderr,
    stdout as _stdout,
)
from podium.cli_rerun import (
    DryRunOpt,
    ReasonOpt,
    ServiceOpt,
    SinceOpt,
    StatusOpt,
    UntilOpt,
    WorkflowOpt,
    YesOpt,
    bulk_filter as _bulk_filter,
    bulk_rerun,
)
from podium.client import DEFAULT_SERVER

__all__ = ["EXIT_TIMEOUT", "runs_app"]

# Merged into the top-level ``podium`` command: these are ``podium start``, not ``podium runs start``.
runs_app = typer.Typer()

WorkflowIdArg = Annotated[str, typer.Argument(help="The workflow run id.")]

EXIT_TIMEOUT = 124


# -- output helpers ------------------------------------------------------------------------------


def _duration(start: Any, end: Any) -> str:
    """``1.25s`` or ``3m07s``; empty when not started, counting to now when not ended."""
    if not isinstance(start, int | float) or start <= 0:
        return ""
    stop = end if isinstance(end, int | float) and end > 0 else time.time() * 1000
    seconds = max(0.0, (stop - start) / 1000)
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _parse_object(raw: str, option: str) -> dict[str, Any]:
    """A JSON object from an option: inline JSON, or ``@file.json``."""
    value = json_option(raw, option)
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=option)
    return value


# -- runs ----------------------------------------------------------------------------------------


@runs_app.command()
def start(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    input: Annotated[str, typer.Option("--input", "-i", help="JSON object, or @file.json.")] = "{}",
    version: Annotated[int | None, typer.Option(help="Default: latest.")] = None,
    correlation_id: Annotated[str | None, typer.Option()] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Starting twice with the same key starts one run.")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run ends.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to --wait.")] = 300.0,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Start a workflow run and print its id (with --wait: its result)."""
    payload = _parse_object(input, "--input")
    with _client(server) as client:
        workflow_id = client.start_workflow(name, payload, version, correlation_id, idempotency_key)
        if not wait:
            if as_json:
                _echo_json({"workflowId": workflow_id})
            else:
                typer.echo(workflow_id)
            return
        try:
            if as_json:
                run = client.wait_for(workflow_id, timeout, poll_interval=0.2, on_poll=RunNotes())
            else:
                _stderr().print(Text.assemble("started ", (workflow_id, "bold")))
                with Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    TimeElapsedColumn(),
                    console=_stderr(),
                    transient=True,
                ) as progress:
                    bar = progress.add_task("starting", total=None)
                    notes = RunNotes(progress.console)  # printed above the spinner

                    def show(r: dict[str, Any]) -> None:
                        progress.update(bar, description=progress_text(r))
                        notes(r)

                    run = client.wait_for(workflow_id, timeout, poll_interval=0.2, on_poll=show)
        except TimeoutError as exc:
            _fail(str(exc), code=EXIT_TIMEOUT)
    status = str(run.get("status"))
    if as_json:
        _echo_json({k: v for k, v in run.items() if k != "tasks"})
    else:
        out = _stdout()
        out.print(
            Text.assemble(
                "workflow ",
                (workflow_id, "bold"),
                " ",
                _status(status),
                f" in {_duration(run.get('startTime'), run.get('endTime'))}",
            )
        )
        if run.get("reasonForIncompletion"):
            out.print(Text(f"reason: {run['reasonForIncompletion']}", style="red"))
        out.print_json(data=run.get("output") or {})
    if status != "COMPLETED":
        raise typer.Exit(1)


def _task_table(tasks: list[dict[str, Any]]) -> Table:
    table = Table(title="tasks", title_justify="left")
    for column in ("ref", "type", "status", "attempt", "worker", "duration", "reason"):
        table.add_column(column, overflow="fold", no_wrap=column == "status")
    for task in tasks:
        table.add_row(
            Text(str(task.get("referenceTaskName", ""))),
            Text(str(task.get("taskDefName") or task.get("taskType") or "")),
            _status(task.get("status")),
            str(int(task.get("retryCount") or 0) + 1),
            Text(str(task.get("workerId") or "")),
            _duration(task.get("startTime"), task.get("endTime")),
            Text(str(task.get("reasonForIncompletion") or ""), style="red"),
        )
    return table


@runs_app.command()
def status(
    workflow_id: WorkflowIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Show a run and its tasks."""
    with _client(server) as client:
        run = client.get_workflow(workflow_id, include_tasks=True)
    if as_json:
        _echo_json(run)
        return
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    rows: list[tuple[str, Text | str]] = [
        ("workflow", Text(workflow_id)),
        ("name", Text(f"{run.get('workflowName', '')} v{run.get('workflowVersion', '')}")),
        ("status", _status(run.get("status"))),
        ("correlation id", Text(str(run.get("correlationId") or ""))),
        ("started", _when(run.get("startTime") or run.get("createTime"))),
        ("duration", _duration(run.get("startTime") or run.get("createTime"), run.get("endTime"))),
    ]
    if run.get("reasonForIncompletion"):
        rows.append(("reason", Text(str(run["reasonForIncompletion"]), style="red")))
    failure = run.get("failure") or {}
    if failure.get("service"):
        whom = [failure["service"]]
        whom += [f"{k} {failure[k]}" for k in ("owner", "contact", "onCall") if failure.get(k)]
        rows.append(("call", Text(", ".join(whom), style="bold red")))
    for label, value in rows:
        summary.add_row(label, value)
    out = _stdout()
    out.print(summary)
    out.print(_task_table(run.get("tasks") or []))
    if run.get("output"):
        out.print(Text("output", style="bold"))
        out.print_json(data=run["output"])


@runs_app.command("list")
def list_runs(
    name: Annotated[str | None, typer.Option(help="Workflow name.")] = None,
    status: Annotated[str | None, typer.Option(help="RUNNING, COMPLETED, FAILED...")] = None,
    correlation_id: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """List runs, newest first."""
    with _client(server) as client:
        found = client.search(
            name=name,
            status=status.upper() if status else None,
            correlation_id=correlation_id,
            size=limit,
        )
    if as_json:
        _echo_json(found)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=0)
    # Ids and statuses stay on one line (they are copied and compared); the rest folds.
    table.add_column("workflow id", no_wrap=True)
    table.add_column("name", overflow="fold", min_width=5)
    table.add_column("ver")
    table.add_column("status", no_wrap=True)
    table.add_column("correlation", overflow="fold", min_width=5)
    table.add_column("started", overflow="fold", min_width=8)
    table.add_column("took", overflow="fold", min_width=5)
    for run in found["results"]:
        table.add_row(
            Text(str(run.get("workflowId", ""))),
            Text(str(run.get("workflowType", ""))),
            str(run.get("version", "")),
            _status(run.get("status")),
            Text(str(run.get("correlationId") or "")),
            _when(run.get("startTime"), short=True),
            _duration(run.get("startTime"), run.get("endTime")),
        )
    out = _stdout()
    out.print(table)
    out.print(f"{len(found['results'])} of {found['totalHits']} run(s)")


# -- controlling runs ----------------------------------------------------------------------------


def _done(action: str, workflow_id: str, as_json: bool) -> None:
    if as_json:
        _echo_json({"workflowId": workflow_id, "action": action})
    else:
        _stdout().print(Text.assemble(f"{action} ", (workflow_id, "bold")))


@runs_app.command()
def terminate(
    workflow_id: WorkflowIdArg,
    reason: Annotated[str | None, typer.Option(help="Recorded on the run.")] = None,
    compensate: Annotated[bool, typer.Option(help="Undo its completed steps first.")] = False,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Stop a run for good."""
    with _client(server) as client:
        client.terminate(workflow_id, reason, compensate=compensate)
    _done("terminated", workflow_id, as_json)


@runs_app.command()
def pause(
    workflow_id: WorkflowIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Pause a run: nothing new is scheduled until resume."""
    with _client(server) as client:
        client.pause(workflow_id)
    _done("paused", workflow_id, as_json)


@runs_app.command()
def resume(
    workflow_id: WorkflowIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Resume a paused run."""
    with _client(server) as client:
        client.resume(workflow_id)
    _done("resumed", workflow_id, as_json)


@runs_app.command()
def retry(
    workflow_id: WorkflowIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Pick a failed run up where it failed: its failed task runs again, what completed stays
    done. A COMPENSATION_FAILED run resumes its undo from the compensation that failed.
    (rerun instead runs again from a task of your choice; restart, from the start.)"""
    with _client(server) as client:
        client.retry(workflow_id)
    _done("retried", workflow_id, as_json)


@runs_app.command()
def rerun(
    workflow_id: Annotated[
        str | None, typer.Argument(help="The workflow run id; none for a bulk retry by filter.")
    ] = None,
    from_task: Annotated[
        str | None,
        typer.Option(help="Task id or reference name to run again from (default: the start)."),
    ] = None,
    input: Annotated[
        str | None,
        typer.Option("--input", "-i", help="New workflow input: JSON object, or @file.json."),
    ] = None,
    task_input: Annotated[
        str | None, typer.Option(help="New input of --from-task: JSON object, or @file.json.")
    ] = None,
    service: ServiceOpt = None,
    status: StatusOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    workflow: WorkflowOpt = None,
    reason: ReasonOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Run an ended run (COMPLETED too) again from --from-task: that task and every task after
    it are dropped and scheduled anew; optionally with new input. (retry instead goes on from
    the task that failed; restart runs from the start with the same input.)

    Without a run id, retry in bulk the ended runs that --service, --status, --since, --until,
    --workflow and --reason pick: the list is shown first, then retried once confirmed."""
    flt = _bulk_filter(service, status, since, until, workflow, reason)
    if workflow_id is None:
        if from_task or input is not None or task_input is not None:
            raise typer.BadParameter(
                "a bulk retry takes up each run where it failed; give a run id to rerun one "
                "from a task or with new input",
                param_hint="--from-task/--input",
            )
        bulk_rerun(server, flt, yes=yes, dry_run=dry_run, as_json=as_json)
        return
    if flt or yes or dry_run:
        raise typer.BadParameter(
            "the bulk options pick runs by filter: give them without a run id",
            param_hint="WORKFLOW_ID",
        )
    if task_input is not None and not from_task:
        raise typer.BadParameter(
            "needs --from-task: the task whose input it is", param_hint="--task-input"
        )
    workflow_input = _parse_object(input, "--input") if input is not None else None
    new_task_input = _parse_object(task_input, "--task-input") if task_input is not None else None
    with _client(server) as client:
        client.rerun(
            workflow_id, from_task, workflow_input=workflow_input, task_input=new_task_input
        )
    _done("rerun", workflow_id, as_json)


@runs_app.command()
def restart(
    workflow_id: WorkflowIdArg,
    use_latest: Annotated[bool, typer.Option(help="Use the latest definition.")] = False,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Run an ended run again from the start, with the same input. (retry goes on from the
    task that failed; rerun runs again from a task you name, or with new input.)"""
    with _client(server) as client:
        client.restart(workflow_id, use_latest_definitions=use_latest)
    _done("restarted", workflow_id, as_json)


@runs_app.command()
def signal(
    workflow_id: WorkflowIdArg,
    ref: Annotated[str, typer.Argument(help="Reference name of the waiting task.")],
    output: Annotated[str, typer.Option(help="JSON object, or @file.json.")] = "{}",
    status: Annotated[str, typer.Option(help="COMPLETED or FAILED.")] = "COMPLETED",
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Finish a waiting task (WAIT or HUMAN) of a run."""
    payload = _parse_object(output, "--output")
    with _client(server) as client:
        task_id = client.signal(workflow_id, ref, status.upper(), payload)
    if as_json:
        _echo_json({"workflowId": workflow_id, "action": "signal", "ref": ref, "taskId": task_id})
        return
    _stdout().print(Text.assemble(f"signalled {ref} ({status.upper()}) of ", (workflow_id, "bold")))
