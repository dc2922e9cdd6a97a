"""Conductor's schedule execution search parameters read into a ``TickQuery``.

``query`` is clauses joined by AND, each ``field=value``, ``field = 'value'`` or
``field IN (a, b)``, on ``workflowName``, ``scheduleName`` and ``state`` (or ``status``);
a state is Conductor's (EXECUTED, FAILED, POLLED) or Podium's own tick state (RUNNING,
SKIPPED, COMPLETED, ...). ``sort`` is ``field`` or ``field:ASC|DESC``, comma-separated.
"""

from __future__ import annotations

import re

from podium.errors import ValidationError
from podium.store.schedules_base import TICK_ORDER, TickQuery, TickState

__all__ = ["MAX_PAGE", "tick_query"]

MAX_PAGE = 1000

_CLAUSE = re.compile(
    r"^\s*(?P<field>[A-Za-z]+)\s*(?:(?P<eq>=)\s*(?P<value>.+?)|\s+IN\s*\((?P<values>.*)\))\s*$",
    re.IGNORECASE,
)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)
_EXECUTED = (
    TickState.RUNNING,
    "COMPLETED",
    "FAILED",
    "TIMED_OUT",
    "TERMINATED",
    "COMPENSATED",
    "COMPENSATION_FAILED",
    "CANCELLED",
    "REMOVED",
)
_CONDUCTOR_STATES = {
    "EXECUTED": _EXECUTED,
    "POLLED": (TickState.BUFFERED,),
}
# Conductor's FAILED is a tick that started nothing; a run that failed is Podium's FAILED.
_NOT_STARTED = (TickState.SKIPPED, TickState.START_FAILED)
_SORT_ALIASES = {"startTime": "executionTime", "status": "state"}


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _states(values: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        upper = value.upper()
        if upper == "FAILED":
            found.extend(_NOT_STARTED)
        found.extend(_CONDUCTOR_STATES.get(upper, (upper,)))
    return tuple(dict.fromkeys(found))


def tick_query(
    start: int, size: int, sort: str | None, free_text: str | None, query: str | None
) -> TickQuery:
    if start < 0:
        raise ValidationError("start must be 0 or more", field="start")
    if not 1 <= size <= MAX_PAGE:
        raise ValidationError(f"size must be from 1 to {MAX_PAGE}", field="size")
    filters: dict[str, tuple[str, ...]] = {"workflowName": (), "scheduleName": (), "state": ()}
    for clause in _AND.split(query.strip()) if query and query.strip() else []:
        match = _CLAUSE.match(clause)
        field = match.group("field") if match else ""
        field = "state" if field == "status" else field
        if match is None or field not in filters:
            raise ValidationError(
                f"query clause {clause!r} is not workflowName, scheduleName or state "
                "= a value or IN (values)",
                field="query",
            )
        raw = [match.group("value")] if match.group("eq") else match.group("values").split(",")
        values = [_unquote(value) for value in raw if value.strip()]
        filters[field] = _states(values) if field == "state" else tuple(values)
    order: list[tuple[str, bool]] = []
    for part in (sort or "").split(","):
        if not part.strip():
            continue
        name, _, direction = part.strip().partition(":")
        name = _SORT_ALIASES.get(name, name)
        if name not in TICK_ORDER or direction.upper() not in ("", "ASC", "DESC"):
            raise ValidationError(
                f"sort {part!r}: sort by {', '.join(TICK_ORDER)}, optionally :ASC or :DESC",
                field="sort",
            )
        order.append((name, direction.upper() == "DESC"))
    text = (free_text or "").strip()
    return TickQuery(
        schedule_names=filters["scheduleName"],
        workflow_names=filters["workflowName"],
        states=filters["state"],
        text=None if text in ("", "*") else text,
        start=start,
        size=size,
        order=tuple(order),
    )
