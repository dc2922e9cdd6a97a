"""``POST /api/bulk/rerun``: retry the ended runs a filter picks, after a dry run lists them.

``{"filter": {...}, "dryRun": true}`` lists the runs (``bulk_rerun``) and their ids;
``{"runIds": [...]}`` then retries those and no others, each in its own unit of work, and
answers for each whether it was retried or refused and why. Given the dry run's ``filter``
again, a listed run that no longer fits it (retried by someone else meanwhile) is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from podium.engine.events import RetryRun
from podium.errors import PodiumError, ValidationError
from podium.server.bulk_rerun import MAX_LISTED, matching_runs, mismatch, read_filter
from podium.server.requests import read_json
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(prefix="/api/bulk", tags=["workflow"])

_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
_KEYS = frozenset({"filter", "dryRun", "runIds", "limit"})


@router.post("/rerun", openapi_extra={"requestBody": _BODY})
async def rerun(request: Request) -> dict[str, Any]:
    """A dry run's list of the runs a filter picks, or the retry of the runs listed."""
    body = await read_json(request, empty={})
    if not isinstance(body, dict):
        raise ValidationError("the body must be an object", field="body")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise ValidationError(
            f"{unknown[0]} is not a field of a rerun: use {', '.join(sorted(_KEYS))}",
            field=unknown[0],
        )
    orchestrator = orchestrator_of(request)
    flt = read_filter(body.get("filter"), orchestrator.clock())
    dry_run = body.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise ValidationError("dryRun must be true or false", field="dryRun")
    if dry_run:
        return await _dry_run(request, body, flt)
    run_ids = body.get("runIds")
    if run_ids is None:
        raise ValidationError(
            "runIds is missing: list the runs with dryRun true first, then send the ids it "
            "listed, so that exactly those are retried",
            field="runIds",
        )
    if not isinstance(run_ids, list) or not all(isinstance(i, str) for i in run_ids):
        raise ValidationError("runIds must be a list of workflow ids", field="runIds")
    if len(run_ids) > MAX_LISTED:
        raise ValidationError(f"at most {MAX_LISTED} runIds at once", field="runIds")
    check = "filter" in body
    retried: list[str] = []
    refused: dict[str, str] = {}
    for run_id in dict.fromkeys(run_ids):
        if check:

            def unit(tx: StoreTx, run_id: str = run_id) -> str | None:
                return mismatch(tx, orchestrator.policy, orchestrator.definitions, flt, run_id)

            why = await orchestrator.store.read(unit)
            if why is not None:
                refused[run_id] = f"no longer matches the filter: {why}"
                continue
        try:
            await orchestrator.act(run_id, RetryRun)
        except PodiumError as exc:
            refused[run_id] = exc.message
        else:
            retried.append(run_id)
    return {"retried": retried, "refused": refused}


async def _dry_run(request: Request, body: dict[str, Any], flt: Any) -> dict[str, Any]:
    limit = body.get("limit", MAX_LISTED)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LISTED:
        raise ValidationError(f"limit must be a number from 1 to {MAX_LISTED}", field="limit")
    orchestrator = orchestrator_of(request)

    def unit(tx: StoreTx) -> Any:
        return matching_runs(tx, orchestrator.policy, orchestrator.definitions, flt, limit)

    found, more = await orchestrator.store.read(unit)
    return {
        "dryRun": True,
        "filter": flt.to_json(),
        "runs": [candidate.to_json() for candidate in found],
        "runIds": [candidate.run_id for candidate in found],
        "truncated": more,
    }
