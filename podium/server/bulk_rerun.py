"""Recovery in bulk: which ended runs a filter picks (by blamed service, status, end time,
workflow and reason), and whether a run listed by a dry run still fits it.

A dry run lists the runs; the retry then takes that list of ids, never the filter alone, so
it retries exactly what the operator saw, even if more runs failed meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from podium.dsl.durations import parse_duration_s, parse_until_ms
from podium.engine.state import RunState, RunStatus
from podium.errors import ValidationError
from podium.resilience.policy import ResiliencePolicy
from podium.server.attribution import blame_run
from podium.server.definitions import Definitions
from podium.store.base import RunOrder, RunQuery, StoreTx

__all__ = [
    "MAX_LISTED",
    "RETRYABLE",
    "Candidate",
    "RerunFilter",
    "matching_runs",
    "mismatch",
    "read_filter",
]

RETRYABLE = (
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.TERMINATED,
    RunStatus.COMPENSATION_FAILED,
)
"""The ended statuses a retry takes up again (a saga's failed compensation resumes)."""
MAX_LISTED = 1000
_PAGE = 200
# A filter on the blamed service is applied run by run (blame is read from each run's tasks),
# so a scan that finds few matches stops here and says the list may be incomplete.
_MAX_SCANNED = 20_000
_FIELDS = frozenset({"service", "status", "since", "until", "workflow", "reasonContains"})


@dataclass(frozen=True, slots=True)
class RerunFilter:
    """Which ended runs to retry; the fields combine with AND."""

    statuses: tuple[str, ...] = (RunStatus.FAILED,)
    service: str | None = None
    """The service the run's failure is blamed on (``attribution.blame_run``)."""
    ended_after: int | None = None
    ended_before: int | None = None
    workflow: str | None = None
    reason_contains: str | None = None
    """Case-insensitive text of the run's ``reasonForIncompletion``."""

    def to_json(self) -> dict[str, Any]:
        body = {
            "status": list(self.statuses),
            "service": self.service,
            "since": self.ended_after,
            "until": self.ended_before,
            "workflow": self.workflow,
            "reasonContains": self.reason_contains,
        }
        return {key: value for key, value in body.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A run the filter picks, as a dry run shows it."""

    run_id: str
    workflow: str
    version: int
    status: str
    service: str | None
    reason: str | None
    ended_at: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "workflowId": self.run_id,
            "workflowName": self.workflow,
            "version": self.version,
            "status": self.status,
            "service": self.service,
            "reason": self.reason,
            "endTime": self.ended_at,
        }


def read_filter(raw: Any, now: int) -> RerunFilter:
    """The filter of a request body (``filter``); a 400 naming the field that is wrong.

    An unknown field is refused rather than ignored: a misspelt ``servce`` would otherwise
    widen the filter to every failed run."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError("filter must be an object", field="filter")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ValidationError(
            f"filter.{unknown[0]} is not a filter: use {', '.join(sorted(_FIELDS))}",
            field=f"filter.{unknown[0]}",
        )
    return RerunFilter(
        statuses=_statuses(raw.get("status")),
        service=_text(raw, "service"),
        ended_after=_moment(raw.get("since"), now, "since"),
        ended_before=_moment(raw.get("until"), now, "until"),
        workflow=_text(raw, "workflow"),
        reason_contains=_text(raw, "reasonContains"),
    )


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(f"filter.{key} must be a string", field=f"filter.{key}")
    return value


def _statuses(value: Any) -> tuple[str, ...]:
    if value is None:
        return (RunStatus.FAILED,)
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(s, str) for s in items):
        raise ValidationError(
            "filter.status must be a status or a non-empty list of them", field="filter.status"
        )
    statuses: list[str] = []
    for item in items:
        status = item.strip().upper()
        if status not in RETRYABLE:
            raise ValidationError(
                f"filter.status {item!r} cannot be retried: use {', '.join(RETRYABLE)}",
                field="filter.status",
            )
        statuses.append(status)
    return tuple(dict.fromkeys(statuses))


def _moment(value: Any, now: int, key: str) -> int | None:
    """Epoch ms, a duration back from now (``"2h"``, ``"30 minutes"``) or a time
    (``"2026-12-04T10:00:00Z"``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(f"filter.{key} must be a time", field=f"filter.{key}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            return now - int(parse_duration_s(text) * 1000)
        except ValueError:
            pass
        try:
            return parse_until_ms(text)
        except ValueError:
            pass
    raise ValidationError(
        f"filter.{key} must be epoch milliseconds, a duration back from now ('2h') or an "
        f"ISO-8601 time, not {value!r}",
        field=f"filter.{key}",
    )


class _Blamer:
    """The blamed service of runs, read from each run's tasks and definition."""

    def __init__(self, tx: StoreTx, policy: ResiliencePolicy, definitions: Definitions) -> None:
        self._tx = tx
        self._policy = policy
        self._definitions = definitions

    def service_of(self, run_id: str) -> tuple[RunState, str | None] | None:
        found = self._tx.get_run(run_id)
        if found is None:
            return None
        state, key = found
        blame = blame_run(self._tx, self._policy, self._definitions.blueprint(self._tx, key), state)
        return state, blame.service if blame else None


def _reason_fits(flt: RerunFilter, state: RunState) -> bool:
    if flt.reason_contains is None:
        return True
    return flt.reason_contains.lower() in (state.reason or "").lower()


def _candidate(state: RunState, service: str | None) -> Candidate:
    return Candidate(
        state.run_id,
        state.name,
        state.version,
        str(state.status),
        service,
        state.reason,
        state.end_at,
    )


def matching_runs(
    tx: StoreTx,
    policy: ResiliencePolicy,
    definitions: Definitions,
    flt: RerunFilter,
    limit: int,
) -> tuple[list[Candidate], bool]:
    """Up to ``limit`` runs the filter picks, the latest to end first, and whether more
    may match (the list stopped at ``limit`` or the scan at its bound)."""
    blamer = _Blamer(tx, policy, definitions)
    query = RunQuery(
        statuses=flt.statuses,
        names=(flt.workflow,) if flt.workflow else (),
        ended_after=flt.ended_after,
        ended_before=flt.ended_before,
        size=_PAGE,
        order=((RunOrder.ENDED, True),),
    )
    found: list[Candidate] = []
    scanned = 0
    while True:
        total, headers = tx.search_runs(query, tasks=False)
        for header in headers:
            scanned += 1
            if not _reason_fits(flt, header):
                continue
            blamed = blamer.service_of(header.run_id)
            if blamed is None or (flt.service is not None and blamed[1] != flt.service):
                continue
            if len(found) == limit:
                return found, True
            found.append(_candidate(blamed[0], blamed[1]))
        if query.start + _PAGE >= total:
            return found, False
        if scanned >= _MAX_SCANNED:
            return found, True
        query = replace(query, start=query.start + _PAGE)


def mismatch(
    tx: StoreTx, policy: ResiliencePolicy, definitions: Definitions, flt: RerunFilter, run_id: str
) -> str | None:
    """Why a run listed by a dry run no longer fits ``flt`` (it was retried meanwhile, say),
    or None when it still does; a run that is gone is left to the retry to report."""
    blamed = _Blamer(tx, policy, definitions).service_of(run_id)
    if blamed is None:
        return None
    state, service = blamed
    if state.status not in flt.statuses:
        return f"it is {state.status} now, not {' or '.join(flt.statuses)}"
    if flt.workflow is not None and state.name != flt.workflow:
        return f"it is a run of {state.name}, not {flt.workflow}"
    if flt.service is not None and service != flt.service:
        return f"its failure is blamed on {service or 'no service'}, not {flt.service}"
    ended = state.end_at
    if flt.ended_after is not None and (ended is None or ended < flt.ended_after):
        return "it ended before the filter's since"
    if flt.ended_before is not None and (ended is None or ended > flt.ended_before):
        return "it ended after the filter's until"
    if not _reason_fits(flt, state):
        return f"its reason does not contain {flt.reason_contains!r}"
    return None
