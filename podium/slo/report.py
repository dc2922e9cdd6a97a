"""An SLO's current value, error budget and burn rates, computed from the store's outcomes.

One aggregate query per SLO counts its window and every burn window in one pass over one index
range; a latency SLO reads its percentile with one more (an ordered range, stopped at the
rank). ``SloReports`` keeps the reports for a few seconds, so that each ``/metrics`` scrape
of a busy server does not count the windows again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podium.engine.state import RunStatus, TaskStatus
from podium.slo.budget import Counts, budget_remaining, burn_rate, burn_windows, nearest_rank
from podium.slo.model import LatencyObjective, Slo, parse_slo
from podium.store.slos_base import Good, OutcomeFilter, SloRow, SloStoreTx

__all__ = ["SloReport", "SloReports", "filter_of", "good_of", "report"]


@dataclass(frozen=True, slots=True)
class SloReport:
    slo: Slo
    version: int
    counts: Counts
    """Over the SLO's whole window."""
    burn: dict[str, tuple[int, Counts]]
    """By standard window label: its length (scaled to the SLO's window) and its counts."""
    percentile_ms: int | None
    """For a latency SLO, the measured percentile over the window."""
    now: int

    @property
    def value(self) -> float | None:
        return self.counts.ratio

    @property
    def budget_remaining(self) -> float:
        return budget_remaining(self.counts, self.slo.target)

    def burn_rates(self) -> dict[str, float]:
        return {label: burn_rate(c, self.slo.target) for label, (_, c) in self.burn.items()}

    def to_json(self) -> dict[str, Any]:
        body = self.slo.to_json()
        body["version"] = self.version
        current: dict[str, Any] = {
            "at": self.now,
            "scope": self.slo.scope,
            "objective": self.slo.target,
            "value": self.value,
            "events": self.counts.total,
            "goodEvents": self.counts.good,
            "errorBudgetRemaining": self.budget_remaining,
            "burnRates": {
                label: {
                    "windowMs": length,
                    "events": counts.total,
                    "goodEvents": counts.good,
                    "burnRate": burn_rate(counts, self.slo.target),
                }
                for label, (length, counts) in self.burn.items()
            },
        }
        if isinstance(self.slo.objective, LatencyObjective):
            current["percentileMs"] = self.percentile_ms
        body["status"] = current
        return body


def filter_of(slo: Slo) -> OutcomeFilter:
    if slo.scope == "workflow":
        return OutcomeFilter(slo.workflow, "", None)
    if slo.scope == "step":
        return OutcomeFilter(slo.workflow, slo.step or "", None)
    return OutcomeFilter(slo.workflow, "", slo.service)


def good_of(slo: Slo) -> Good:
    objective = slo.objective
    if isinstance(objective, LatencyObjective):
        return Good(max_duration_ms=objective.threshold_ms)
    if slo.scope != "workflow":
        return Good(statuses=(str(TaskStatus.COMPLETED),))
    good = [str(RunStatus.COMPLETED)]
    if not objective.count_compensated_as_failure:
        good.append(str(RunStatus.COMPENSATED))
    return Good(statuses=tuple(good))


def report(tx: SloStoreTx, row: SloRow, now: int) -> SloReport:
    slo = parse_slo(row.body)
    which = filter_of(slo)
    windows = burn_windows(slo.window_ms)
    starts = [now - slo.window_ms, *(now - length for length in windows.values())]
    counted = [Counts(t, g) for t, g in tx.count_outcomes(which, good_of(slo), now, starts)]
    percentile_ms = None
    if isinstance(slo.objective, LatencyObjective) and counted[0].total:
        rank = nearest_rank(slo.objective.percentile, counted[0].total)
        percentile_ms = tx.outcome_duration_at(which, now, starts[0], rank)
    burn = {
        label: (length, counts)
        for (label, length), counts in zip(windows.items(), counted[1:], strict=True)
    }
    return SloReport(slo, row.version, counted[0], burn, percentile_ms, now)


class SloReports:
    """Every SLO's report, computed at most once per ``ttl_ms`` of the clock given."""

    def __init__(self, ttl_ms: int = 15_000) -> None:
        self.ttl_ms = ttl_ms
        self._at: int | None = None
        self._reports: list[SloReport] = []

    def fresh(self, now: int) -> list[SloReport] | None:
        """The reports kept, if computed less than ``ttl_ms`` before ``now``."""
        if self._at is not None and 0 <= now - self._at < self.ttl_ms:
            return self._reports
        return None

    def keep(self, now: int, reports: list[SloReport]) -> None:
        self._at, self._reports = now, reports

    def forget(self) -> None:
        """A push or delete changed the SLOs: the next scrape computes afresh."""
        self._at = None
