"""Reads Conductor's search forms (``query`` and ``freeText``) and Podium's plain filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from podium.engine.state import RunState, RunStatus
from podium.errors import ValidationError
from podium.store.base import RunQuery, StoreTx

__all__ = ["RunSearch", "parse_search", "search_runs"]

_CLAUSE = re.compile(
    r"^\s*(?P<field>\w+)\s*(?P<op>=|>=|<=|>|<|IN)\s*(?P<value>\(.*?\)|'[^']*'|\"[^\"]*\"|\S+)\s*$",
    re.IGNORECASE,
)
_MAX_SIZE = 1000


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("("):
        raw = raw[1:-1]
    return [part.strip().strip("'\"") for part in raw.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class RunSearch:
    """A parsed search: the store's filters, and the workflow names any run may have."""

    names: tuple[str, ...]
    query: RunQuery


def parse_search(
    *,
    start: int,
    size: int,
    query: str | None,
    free_text: str | None,
    name: str | None,
    status: str | None,
    correlation_id: str | None,
    started_after: int | None,
    started_before: int | None,
) -> RunSearch:
    """Combine every filter given; a malformed one is a 400 naming it."""
    if size < 0 or size > _MAX_SIZE:
        raise ValidationError(f"size must be between 0 and {_MAX_SIZE}", field="size")
    if start < 0:
        raise ValidationError("start must not be negative", field="start")
    statuses = [s for s in (status or "").split(",") if s]
    names = [name] if name else []
    for clause in re.split(r"\s+AND\s+", query or "", flags=re.IGNORECASE):
        if not clause.strip():
            continue
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValidationError(
                f"cannot read query clause {clause!r}: use e.g. workflowType = 'x' AND "
                "status IN (RUNNING,FAILED)",
                field="query",
            )
        field, op, values = match["field"], match["op"].upper(), _values(match["value"])
        if field == "workflowType" and values:
            names.extend(values)
        elif field == "status":
            statuses.extend(values)
        elif field == "correlationId" and values:
            correlation_id = values[0]
        elif field == "startTime" and values and op in (">", ">="):
            started_after = int(values[0])
        elif field == "startTime" and values and op in ("<", "<="):
            started_before = int(values[0])
        else:
            raise ValidationError(f"cannot search by {field} {op}", field="query")
    for value in statuses:
        if value.upper() not in RunStatus.__members__:
            raise ValidationError(
                f"'{value}' is not a workflow status ({', '.join(RunStatus)})", field="status"
            )
    if free_text and free_text.strip() not in ("", "*"):
        correlation_id = correlation_id or free_text.strip()
    return RunSearch(
        names=tuple(dict.fromkeys(names)),
        query=RunQuery(
            statuses=tuple(s.upper() for s in statuses),
            correlation_id=correlation_id,
            started_after=started_after,
            started_before=started_before,
            start=start,
            size=size,
        ),
    )


def search_runs(tx: StoreTx, search: RunSearch) -> tuple[int, list[RunState]]:
    """The page of runs ``search`` asks for, newest first.

    The store filters by one name; ``workflowType IN (a, b)`` merges a search per name, each
    deep enough to fill the page.
    """
    query = search.query
    if len(search.names) <= 1:
        name = search.names[0] if search.names else None
        return tx.search_runs(replace(query, name=name))
    total = 0
    found: list[RunState] = []
    for name in search.names:
        count, runs = tx.search_runs(
            replace(query, name=name, start=0, size=query.start + query.size)
        )
        total += count
        found.extend(runs)
    found.sort(key=lambda run: (-run.created_at, run.run_id))  # the store's own order
    return total, found[query.start : query.start + query.size]
