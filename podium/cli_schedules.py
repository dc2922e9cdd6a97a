"""``podium schedules ...``: cron and interval schedules that start workflows."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from podium.cli_output import JsonOpt, ServerOpt, client, echo_json, fail, json_option, stdout
from podium.client import DEFAULT_SERVER
from podium.dsl.durations import parse_duration_s, parse_until_ms
from podium.schedules import Catchup, Overlap, SpecError, next_ticks, parse_spec

__all__ = ["schedules_app"]

schedules_app = typer.Typer(
    help="Cron and interval schedules that start workflows. Without a sub-command: list them.",
    invoke_without_command=True,
)
_STATE_STYLE = {
    "COMPLETED": "green",
    "RUNNING": "cyan",
    "BUFFERED": "blue",
    "FAILED": "bold red",
    "START_FAILED": "bold red",
    "TIMED_OUT": "bold red",
    "TERMINATED": "yellow",
    "SKIPPED": "dim",
}

NameArg = Annotated[str, typer.Argument(help="The schedule's name.")]


def show_time(ms: int | None, zone: str) -> str:
    """An epoch-ms time as the schedule's zone reads it."""
    if ms is None:
        return "-"
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _when(schedule: dict[str, Any]) -> str:
    if schedule.get("intervalSeconds"):
        return f"every {_seconds(float(schedule['intervalSeconds']))}"
    return str(schedule.get("cronExpression") or "-")


def _seconds(value: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{int(value // size)}{unit}"
    return f"{value:g}s"


def _workflow(schedule: dict[str, Any]) -> str:
    request = schedule.get("startWorkflowRequest") or {}
    name = str(request.get("name") or "-")
    return f"{name} v{request['version']}" if request.get("version") else name


def _status(schedule: dict[str, Any]) -> Text:
    if not schedule.get("paused"):
        return Text("active", style="green")
    reason = schedule.get("pausedReason")
    return Text(f"paused: {reason}" if reason else "paused", style="yellow")


def _last_run(schedule: dict[str, Any]) -> Text:
    runs = schedule.get("lastRuns") or []
    if not runs:
        return Text("-", style="dim")
    state = str(runs[0].get("state") or "")
    return Text(state, style=_STATE_STYLE.get(state, ""))


@schedules_app.command("list")
def list_schedules(
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="Only schedules that start this workflow.")
    ] = None,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Every schedule: when it ticks, its next run, its last run, paused or not."""
    with client(server) as api:
        schedules = api.list_schedules(workflow)
    if as_json:
        echo_json(schedules)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("schedule", "workflow", "when", "zone", "next run", "last run", "status"):
        table.add_column(column)
    for schedule in schedules:
        zone = str(schedule.get("zoneId") or "UTC")
        table.add_row(
            str(schedule["name"]),
            _workflow(schedule),
            _when(schedule),
            zone,
            show_time(schedule.get("nextRunTime"), zone),
            _last_run(schedule),
            _status(schedule),
        )
    stdout().print(table)


@schedules_app.callback()
def schedules(
    ctx: typer.Context, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Cron and interval schedules that start workflows. Without a sub-command: list them."""
    if ctx.invoked_subcommand is None:
        list_schedules(None, server, as_json)


@schedules_app.command("show")
def show(name: NameArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False) -> None:
    """One schedule: its timing, policies, next runs and last runs."""
    with client(server) as api:
        schedule = api.get_schedule(name)
    if as_json:
        echo_json(schedule)
        return
    zone = str(schedule.get("zoneId") or "UTC")
    out = stdout()
    out.print(Text.assemble((str(schedule["name"]), "bold"), "  ", _status(schedule)))
    rows = [
        ("workflow", _workflow(schedule)),
        ("when", f"{_when(schedule)} ({zone})"),
        ("starts", show_time(schedule.get("scheduleStartTime") or None, zone)),
        ("ends", show_time(schedule.get("scheduleEndTime") or None, zone)),
        ("overlap", schedule.get("overlapPolicy") or Overlap.SKIP.value),
        ("catch-up", _catchup(schedule)),
        ("jitter", _seconds(float(schedule.get("jitterSeconds") or 0))),
        ("pause after", _failures(schedule.get("pauseAfterFailures"))),
        ("next run", show_time(schedule.get("nextRunTime"), zone)),
    ]
    for label, value in rows:
        out.print(f"  {label:12} {value}")
    if schedule.get("description"):
        out.print(f"  {'description':12} {schedule['description']}")
    runs = schedule.get("lastRuns") or []
    if not runs:
        out.print("  no runs yet")
        return
    table = Table(box=box.SIMPLE_HEAD, title="last runs", title_justify="left")
    for column in ("tick", "run", "state"):
        table.add_column(column)
    for run in runs:
        state = str(run.get("state") or "")
        table.add_row(
            show_time(run.get("scheduledTime"), zone),
            str(run.get("workflowId") or "-"),
            Text(state, style=_STATE_STYLE.get(state, "")),
        )
    out.print(table)


def _catchup(schedule: dict[str, Any]) -> str:
    policy = schedule.get("catchupPolicy") or (
        Catchup.NONE.value if schedule.get("runCatchupScheduleInstances") is False else "ALL"
    )
    window = schedule.get("catchupWindowSeconds")
    return f"{policy} within {_seconds(float(window))}" if window and policy != "NONE" else policy


def _failures(count: Any) -> str:
    return f"{count} failed runs in a row" if count else "never"


def _time_option(raw: str | None, option: str) -> int | None:
    if raw is None:
        return None
    if raw.strip().isdigit():
        return int(raw)
    try:
        return parse_until_ms(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _duration_option(raw: str | None, option: str) -> float | None:
    if raw is None:
        return None
    try:
        return parse_duration_s(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text())
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="-f") from None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{path} is not valid JSON: {exc}", param_hint="-f") from None
    if not isinstance(body, dict):
        raise typer.BadParameter(f"{path} must hold one schedule object", param_hint="-f")
    return body


@schedules_app.command("create")
def create(
    name: Annotated[
        str | None, typer.Argument(help="The schedule's name (or the file's `name`).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("-f", "--file", help="A SaveScheduleRequest JSON file.")
    ] = None,
    cron: Annotated[
        str | None, typer.Option("--cron", help="`sec min hour dom month dow`, or 5 fields.")
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", help="An interval instead of a cron: `90s`, `1h`.")
    ] = None,
    zone: Annotated[str | None, typer.Option("--zone", help="IANA time zone of the cron.")] = None,
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="The workflow each tick starts.")
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="Its version.")] = None,
    input_json: Annotated[
        str | None, typer.Option("--input", help="The runs' input: JSON or @file.json.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="No ticks before this.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="No ticks after this.")] = None,
    overlap: Annotated[
        Overlap | None,
        typer.Option("--overlap", help="While the last run still runs.", case_sensitive=False),
    ] = None,
    catchup: Annotated[
        Catchup | None,
        typer.Option("--catchup", help="Ticks missed while down.", case_sensitive=False),
    ] = None,
    catchup_window: Annotated[
        str | None, typer.Option("--catchup-window", help="How far back to catch up: `1d`.")
    ] = None,
    jitter: Annotated[
        str | None, typer.Option("--jitter", help="Start each run up to this late: `30s`.")
    ] = None,
    pause_after_failures: Annotated[
        int | None, typer.Option("--pause-after-failures", help="Pause after N failed runs.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Create or replace a schedule, from options or from a file (options win over the file)."""
    body = _read_file(file) if file else {}
    request = dict(body.get("startWorkflowRequest") or {})
    options: dict[str, Any] = {
        "name": name,
        "cronExpression": cron,
        "intervalSeconds": _duration_option(every, "--every"),
        "zoneId": zone,
        "scheduleStartTime": _time_option(start, "--start"),
        "scheduleEndTime": _time_option(end, "--end"),
        "overlapPolicy": overlap.value if overlap else None,
        "catchupPolicy": catchup.value if catchup else None,
        "catchupWindowSeconds": _duration_option(catchup_window, "--catchup-window"),
        "jitterSeconds": _duration_option(jitter, "--jitter"),
        "pauseAfterFailures": pause_after_failures,
        "description": description,
        "paused": True if paused else None,
    }
    body.update({key: value for key, value in options.items() if value is not None})
    # One way of saying when it ticks: an option replaces the file's other one.
    if cron is not None:
        body.pop("intervalSeconds", None)
    if every is not None:
        body.pop("cronExpression", None)
    if catchup is not None:
        # Conductor's own flag, for clients that read only it.
        body["runCatchupScheduleInstances"] = catchup is not Catchup.NONE
    if workflow is not None:
        request["name"] = workflow
    if version is not None:
        request["version"] = version
    if input_json is not None:
        request["input"] = json_option(input_json, "--input")
    body["startWorkflowRequest"] = request
    if not body.get("name"):
        fail("give the schedule a name (an argument, or `name` in the file)")
    if not request.get("name"):
        fail("give the workflow it starts (--workflow, or startWorkflowRequest.name)")
    try:
        spec = parse_spec(body)
    except SpecError as exc:
        fail(str(exc))
    with client(server) as api:
        api.save_schedule(body)
    out = stdout()
    if body.get("paused"):
        out.print(f"saved schedule {body['name']}, paused")
        return
    out.print(f"saved schedule {body['name']}")
    now_ms = int(time.time() * 1000)
    for tick in next_ticks(spec, now_ms, 3):
        out.print(f"  next  {show_time(tick, spec.zone)}")


@schedules_app.command("pause")
def pause(
    name: NameArg,
    reason: Annotated[str | None, typer.Option("--reason", help="Shown beside it.")] = None,
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Stop a schedule's ticks until it is resumed."""
    with client(server) as api:
        api.pause_schedule(name, reason)
    stdout().print(f"paused schedule {name}" + (f": {reason}" if reason else ""))


@schedules_app.command("resume")
def resume(name: NameArg, server: ServerOpt = DEFAULT_SERVER) -> None:
    """Start a paused schedule's ticks again."""
    with client(server) as api:
        api.resume_schedule(name)
    stdout().print(f"resumed schedule {name}")


@schedules_app.command("delete")
def delete(name: NameArg, server: ServerOpt = DEFAULT_SERVER) -> None:
    """Remove a schedule (the runs it started are left alone)."""
    with client(server) as api:
        api.delete_schedule(name)
    stdout().print(f"deleted schedule {name}")


@schedules_app.command("backfill")
def backfill(
    name: NameArg,
    start: Annotated[str, typer.Option("--from", help="First tick time (ISO, or epoch ms).")],
    end: Annotated[str, typer.Option("--to", help="Last tick time (ISO, or epoch ms).")],
    overlap: Annotated[
        Overlap | None,
        typer.Option("--overlap", help="Instead of the schedule's own.", case_sensitive=False),
    ] = None,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Run the ticks a schedule had (or would have had) between two times, up to now, that
    never ran."""
    start_ms, end_ms = _time_option(start, "--from"), _time_option(end, "--to")
    assert start_ms is not None and end_ms is not None
    if end_ms < start_ms:
        raise typer.BadParameter("is before --from", param_hint="--to")
    with client(server) as api:
        done = api.backfill_schedule(name, start_ms, end_ms, overlap.value if overlap else None)
        zone = str(api.get_schedule(name).get("zoneId") or "UTC") if not as_json else "UTC"
    if as_json:
        echo_json(done)
        return
    started = set(done["started"])
    out = stdout()
    out.print(
        f"backfilling {len(started)} of the {len(done['scheduled'])} tick(s) of {name} "
        "in that range (the others ran before)"
    )
    for tick in done["scheduled"]:
        out.print(f"  {show_time(tick, zone)}  {'started' if tick in started else 'ran before'}")


@schedules_app.command("next")
def next_times(
    name: Annotated[str | None, typer.Argument(help="The schedule's name.")] = None,
    cron: Annotated[
        str | None, typer.Option("--cron", help="Try a cron expression instead.")
    ] = None,
    zone: Annotated[str, typer.Option("--zone", help="The --cron's zone.")] = "UTC",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 5,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """The next times a schedule, or a cron expression given with --cron, fires."""
    if (name is None) == (cron is None):
        raise typer.BadParameter("give a schedule's name or --cron, one of them")
    with client(server) as api:
        if cron is not None:
            times = api.cron_next_times(cron, zone=zone, limit=limit)
        else:
            assert name is not None
            times = api.schedule_next_times(name, limit)
            zone = str(api.get_schedule(name).get("zoneId") or "UTC") if not as_json else zone
    if as_json:
        echo_json(times)
        return
    out = stdout()
    for tick in times:
        out.print(show_time(tick, zone))
