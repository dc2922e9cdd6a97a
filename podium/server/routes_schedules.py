"""``/api/scheduler``: Conductor's scheduler API (as its Python SDK calls it), and Podium's
own ``next`` and ``backfill``.

A schedule is saved as given, once its timing, policies and what it starts are checked: a
bad field answers 400 naming it and stores nothing. Saving, resuming and backfilling poke the
scheduler (``server.scheduler``), which does the ticking.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from podium.errors import ValidationError
from podium.schedules import Overlap, ScheduleSpec, SpecError, next_ticks, parse_spec
from podium.server.requests import read_json, read_model
from podium.server.schedule_search import tick_query
from podium.server.schedule_ticks import next_look
from podium.server.schedule_views import LAST_RUNS, execution_json, next_run_time, schedule_json
from podium.server.scheduler import ScheduleNotFoundError, Scheduler
from podium.server.schemas import SaveScheduleRequest
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx
from podium.store.schedules_base import ScheduleRow

__all__ = ["router"]

router = APIRouter(prefix="/api/scheduler", tags=["scheduler"])

_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
_MAX_LIMIT = 1000


def _spec(body: dict[str, Any]) -> ScheduleSpec:
    try:
        return parse_spec(body)
    except SpecError as exc:
        raise ValidationError(exc.message, field=exc.field) from exc


def _scheduler(request: Request) -> Scheduler | None:
    scheduler: Scheduler | None = getattr(request.app.state, "scheduler", None)
    return scheduler


def _poke(request: Request) -> None:
    scheduler = _scheduler(request)
    if scheduler is not None:
        scheduler.poke()


def _require(tx: StoreTx, name: str, *, for_update: bool = False) -> ScheduleRow:
    row = tx.get_schedule(name, for_update=for_update)
    if row is None:
        raise ScheduleNotFoundError(f"no schedule '{name}'", service="server", field="name")
    return row


def _limit(limit: int) -> int:
    if not 1 <= limit <= _MAX_LIMIT:
        raise ValidationError(f"limit must be from 1 to {_MAX_LIMIT}", field="limit")
    return limit


def _view(tx: StoreTx, row: ScheduleRow, now: int) -> dict[str, Any]:
    return schedule_json(row, _spec(row.body), tx.recent_ticks(row.name, LAST_RUNS), now)


# ---- schedules ---------------------------------------------------------------------------


@router.post("/schedules", openapi_extra={"requestBody": _BODY})
async def save_schedule(request: Request) -> dict[str, Any]:
    """Create or replace a schedule (Conductor's ``SaveScheduleRequest`` with Podium's
    ``intervalSeconds``, ``overlapPolicy``, ``catchupPolicy``, ``catchupWindowSeconds``,
    ``jitterSeconds`` and ``pauseAfterFailures``)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError("the body must be a schedule (a JSON object)", field="body")
    saved = read_model(SaveScheduleRequest, body)
    start = saved.startWorkflowRequest
    if start.workflowDef is not None:
        raise ValidationError(
            "a schedule starts a registered workflow: register the definition and name it",
            field="startWorkflowRequest.workflowDef",
        )
    spec = _spec(body)
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    paused = bool(saved.paused)

    def unit(tx: StoreTx) -> dict[str, Any]:
        if tx.get_workflow_def(start.name, start.version) is None:
            version = "" if start.version is None else f" version {start.version}"
            raise ValidationError(
                f"no workflow '{start.name}'{version} is registered",
                field="startWorkflowRequest.version"
                if start.version is not None
                else "startWorkflowRequest.name",
            )
        before = tx.get_schedule(saved.name, for_update=True)
        was_paused = before is not None and before.paused
        # Ticks are acted on from the save on, unless the schedule was ticking already: then
        # from where it had got to, so that a tick due as it is saved is not lost.
        last = now if before is None or before.paused else before.last_tick_ms
        following = next_look(spec, saved.name, now if last is None else last)
        reason = None
        if paused:  # Conductor's clients send no reason: a paused one keeps its own
            reason = saved.pausedReason or (before.paused_reason if before and was_paused else None)
        tx.put_schedule(
            saved.name,
            start.name,
            body,
            paused=paused,
            paused_reason=reason,
            next_tick_ms=following,
            last_tick_ms=last,
            now=now,
        )
        if was_paused and not paused:
            # Unpaused by a save as by a resume: its failures are counted afresh, or one that
            # paused itself would pause again at once.
            tx.advance_schedule(
                saved.name,
                next_tick_ms=following,
                last_tick_ms=last,
                consecutive_failures=0,
                now=now,
            )
        return _view(tx, _require(tx, saved.name), now)

    answer: dict[str, Any] = await orchestrator.store.write(unit)
    _poke(request)
    return answer


@router.get("/schedules")
async def list_schedules(
    request: Request, workflowName: str | None = Query(default=None)
) -> list[dict[str, Any]]:
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> list[dict[str, Any]]:
        return [_view(tx, row, now) for row in tx.list_schedules(workflowName or None)]

    found: list[dict[str, Any]] = await orchestrator.store.read(unit)
    return found


@router.get("/schedules/{name}")
async def get_schedule(name: str, request: Request) -> dict[str, Any]:
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    found: dict[str, Any] = await orchestrator.store.read(
        lambda tx: _view(tx, _require(tx, name), now)
    )
    return found


@router.delete("/schedules/{name}")
async def delete_schedule(name: str, request: Request) -> dict[str, Any]:
    """Delete a schedule and its tick records; runs it started go on."""
    store = orchestrator_of(request).store
    if not await store.write(lambda tx: tx.delete_schedule(name)):
        raise ScheduleNotFoundError(f"no schedule '{name}'", service="server", field="name")
    return {"deleted": name}


async def _set_paused(request: Request, name: str, paused: bool, reason: str | None) -> None:
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> None:
        row = _require(tx, name, for_update=True)
        following = None if paused else next_look(_spec(row.body), name, now)
        tx.set_schedule_paused(name, paused, reason, now, next_tick_ms=following)

    await orchestrator.store.write(unit)
    _poke(request)


@router.put("/schedules/{name}/pause")
async def pause_schedule(
    name: str, request: Request, reason: str | None = Query(default=None)
) -> dict[str, Any]:
    """Pause a schedule: it starts nothing until resumed (runs it started go on)."""
    await _set_paused(request, name, True, reason or "paused by hand")
    return {"name": name, "paused": True}


@router.put("/schedules/{name}/resume")
async def resume_schedule(name: str, request: Request) -> dict[str, Any]:
    """Resume a paused schedule from now on: ticks that fell while it was paused are not
    caught up, and its count of failed runs starts again from 0."""
    await _set_paused(request, name, False, None)
    return {"name": name, "paused": False}


# Orkes Conductor maps the per-schedule pause and resume as GET; its clients call them so.
router.add_api_route("/schedules/{name}/pause", pause_schedule, methods=["GET"])
router.add_api_route("/schedules/{name}/resume", resume_schedule, methods=["GET"])


@router.get("/schedules/{name}/next")
async def next_of_schedule(name: str, request: Request, limit: int = Query(default=5)) -> list[int]:
    """The nominal times of the schedule's next ticks (before jitter)."""
    count = _limit(limit)
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    row: ScheduleRow = await orchestrator.store.read(lambda tx: _require(tx, name))
    spec = _spec(row.body)
    first = next_run_time(row, spec, now)
    if first is None:
        return []
    return [first, *next_ticks(spec, first, count - 1)] if count > 1 else [first]


@router.post("/schedules/{name}/backfill", openapi_extra={"requestBody": _BODY})
async def backfill_schedule(name: str, request: Request) -> dict[str, Any]:
    """Start a run for every tick in ``[startTime, endTime]`` (epoch ms, up to now) that was
    never acted on; ``overlapPolicy`` overrides the schedule's. ``scheduled`` lists the
    range's ticks, ``started`` those this call started or buffered."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError("the body must be {startTime, endTime}", field="body")
    bounds: list[int] = []
    for key in ("startTime", "endTime"):
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"{key} must be epoch milliseconds", field=key)
        bounds.append(value)
    overlap = None
    if body.get("overlapPolicy") is not None:
        try:
            overlap = Overlap(str(body["overlapPolicy"]).upper())
        except ValueError as exc:
            raise ValidationError(
                f"overlapPolicy must be one of {', '.join(Overlap)}", field="overlapPolicy"
            ) from exc
    scheduler = _scheduler(request)
    if scheduler is None:
        scheduler = Scheduler(orchestrator_of(request))
    done = await scheduler.backfill(name, bounds[0], bounds[1], overlap)
    return {"scheduled": done.scheduled, "started": done.started}


# ---- every schedule ----------------------------------------------------------------------


@router.get("/nextFewSchedules")
async def next_few_schedules(
    request: Request,
    cronExpression: str = Query(),
    scheduleStartTime: int | None = Query(default=None),
    scheduleEndTime: int | None = Query(default=None),
    limit: int = Query(default=3),
    zoneId: str | None = Query(default=None),
) -> list[int]:
    """The next times (epoch ms) a cron expression fires, from now or its start time; in
    ``zoneId`` (Podium's addition: Conductor's route reads the cron in UTC)."""
    count = _limit(limit)
    spec = _spec(
        {
            "cronExpression": cronExpression,
            "scheduleStartTime": scheduleStartTime,
            "scheduleEndTime": scheduleEndTime,
            "zoneId": zoneId,
        }
    )
    return next_ticks(spec, orchestrator_of(request).clock(), count)


async def _pause_all(request: Request, paused: bool) -> dict[str, Any]:
    await orchestrator_of(request).store.write(lambda tx: tx.set_schedules_paused(paused))
    _poke(request)
    return {"paused": paused}


@router.get("/admin/pause")
async def pause_all(request: Request) -> dict[str, Any]:
    """Stop all ticking: no schedule starts anything until resumed. On resuming, ticks that
    fell meanwhile are caught up as each schedule's catch-up policy says."""
    return await _pause_all(request, True)


@router.get("/admin/resume")
async def resume_all(request: Request) -> dict[str, Any]:
    return await _pause_all(request, False)


router.add_api_route("/admin/pause", pause_all, methods=["PUT"])
router.add_api_route("/admin/resume", resume_all, methods=["PUT"])


@router.get("/search/executions")
async def search_executions(
    request: Request,
    start: int = Query(default=0),
    size: int = Query(default=100),
    sort: str | None = Query(default=None),
    freeText: str | None = Query(default=None),
    query: str | None = Query(default=None),
) -> dict[str, Any]:
    """Ticks acted on, as Conductor's executions (see ``schedule_search`` for ``query``)."""
    wanted = tick_query(start, size, sort, freeText, query)

    def unit(tx: StoreTx) -> dict[str, Any]:
        total, ticks = tx.search_ticks(wanted)
        schedules = {name: tx.get_schedule(name) for name in {t.schedule_name for t in ticks}}
        results = [execution_json(tick, schedules[tick.schedule_name]) for tick in ticks]
        return {"totalHits": total, "results": results}

    found: dict[str, Any] = await orchestrator_of(request).store.read(unit)
    return found
