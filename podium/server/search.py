"""Reads Conductor's search forms (``query``, ``freeText`` and ``sort``) and Podium's plain
filters, for runs; ``task_search`` reads the same forms for tasks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from podium.engine.state import RunStatus
from podium.errors import ValidationError
from podium.store.base import RunOrder, RunQuery

__all__ = [
    "RUN_SORT_FIELDS",
    "Clause",
    "check_page",
    "parse_search",
    "read_clauses",
    "read_sort",
]

_CLAUSE = re.compile(
    r"^\s*(?P<field>\w+)\s*(?P<op>=|>=|<=|>|<|IN)\s*(?P<value>\(.*?\)|'[^']*'|\"[^\"]*\"|\S+)\s*$",
    re.IGNORECASE,
)
_SORT = re.compile(r"^\s*(?P<field>\w+)\s*(?::\s*(?P<dir>\w+))?\s*$")
_MAX_SIZE = 1000

# Conductor's names for what a run may be sorted by, and the column each is.
RUN_SORT_FIELDS: dict[str, RunOrder] = {
    "startTime": RunOrder.CREATED,
    "createTime": RunOrder.CREATED,
    "updateTime": RunOrder.UPDATED,
    "endTime": RunOrder.ENDED,
    "workflowType": RunOrder.NAME,
    "workflowName": RunOrder.NAME,
    "version": RunOrder.VERSION,
    "workflowVersion": RunOrder.VERSION,
    "status": RunOrder.STATUS,
    "correlationId": RunOrder.CORRELATION_ID,
    "workflowId": RunOrder.RUN_ID,
}


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``field op value`` of a ``query``, its values unquoted (``IN (a, b)`` has two)."""

    field: str
    op: str
    values: tuple[str, ...]


def _values(raw: str) -> tuple[str, ...]:
    raw = raw.strip()
    if raw.startswith("("):
        raw = raw[1:-1]
    return tuple(part.strip().strip("'\"") for part in raw.split(",") if part.strip())


def read_clauses(query: str | None) -> list[Clause]:
    """The clauses of a Conductor ``query`` (``a = 'x' AND b IN (y, z)``); 400 on one that
    cannot be read."""
    clauses: list[Clause] = []
    for text in re.split(r"\s+AND\s+", query or "", flags=re.IGNORECASE):
        if not text.strip():
            continue
        match = _CLAUSE.match(text)
        if match is None:
            raise ValidationError(
                f"cannot read query clause {text!r}: use e.g. workflowType = 'x' AND "
                "status IN (RUNNING,FAILED)",
                field="query",
            )
        clauses.append(Clause(match["field"], match["op"].upper(), _values(match["value"])))
    return clauses


def read_sort(sort: str | None, fields: set[str] | dict[str, RunOrder]) -> list[tuple[str, bool]]:
    """Conductor's ``sort`` (``startTime:DESC,workflowId:ASC``; ascending when no direction is
    given) as (field, descending) pairs; 400 naming a field that cannot be sorted by."""
    order: list[tuple[str, bool]] = []
    for part in (sort or "").split(","):
        if not part.strip():
            continue
        match = _SORT.match(part)
        if match is None:
            raise ValidationError(f"cannot read sort {part.strip()!r}: use field:ASC", field="sort")
        field, direction = match["field"], (match["dir"] or "ASC").upper()
        if field not in fields:
            raise ValidationError(
                f"cannot sort by {field}: sort by one of {', '.join(sorted(fields))}",
                field="sort",
            )
        if direction not in ("ASC", "DESC"):
            raise ValidationError(
                f"sort direction of {field} must be ASC or DESC, not {match['dir']}", field="sort"
            )
        order.append((field, direction == "DESC"))
    return order


def check_page(start: int, size: int) -> None:
    if size < 0 or size > _MAX_SIZE:
        raise ValidationError(f"size must be between 0 and {_MAX_SIZE}", field="size")
    if start < 0:
        raise ValidationError("start must not be negative", field="start")


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
    sort: str | None = None,
) -> RunQuery:
    """The store's filters for every filter given; a malformed one is a 400 naming it."""
    check_page(start, size)
    statuses = [s for s in (status or "").split(",") if s]
    names = [name] if name else []
    run_ids: list[str] = []
    for clause in read_clauses(query):
        field, op, values = clause.field, clause.op, clause.values
        if field == "workflowType" and values:
            names.extend(values)
        elif field == "workflowId" and values and op in ("=", "IN"):
            run_ids.extend(values)
        elif field == "status":
            statuses.extend(values)
        elif field == "correlationId" and values:
            correlation_id = values[0]
        elif field == "startTime" and values and op in (">", ">="):
            started_after = _millis(values[0])
        elif field == "startTime" and values and op in ("<", "<="):
            started_before = _millis(values[0])
        else:
            raise ValidationError(f"cannot search by {field} {op}", field="query")
    for value in statuses:
        if value.upper() not in RunStatus.__members__:
            raise ValidationError(
                f"'{value}' is not a workflow status ({', '.join(RunStatus)})", field="status"
            )
    if free_text and free_text.strip() not in ("", "*"):
        correlation_id = correlation_id or free_text.strip()
    order = tuple((RUN_SORT_FIELDS[f], desc) for f, desc in read_sort(sort, RUN_SORT_FIELDS))
    return RunQuery(
        statuses=tuple(s.upper() for s in statuses),
        correlation_id=correlation_id,
        started_after=started_after,
        started_before=started_before,
        start=start,
        size=size,
        names=tuple(dict.fromkeys(names)),
        run_ids=tuple(dict.fromkeys(run_ids)),
        order=order,
    )


def _millis(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationError(
            f"startTime must be epoch milliseconds, not {value!r}", field="query"
        ) from None
