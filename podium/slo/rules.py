"""Prometheus recording and alerting rules for SLOs, over the metrics Podium exports, for
teams that alert from Prometheus rather than from Podium's own ``podium_slo_*`` gauges.

Per SLO, a recording rule gives the error ratio (the share of bad events) over each standard
window, and three alerts fire when a long and a short window both burn faster than the SRE
workbook's thresholds (14.4x over 1h and 5m, 6x over 6h and 30m: page; 1x over 3d and 6h:
ticket). Windows are scaled to the SLO's window as Podium's own burn rates are.

Podium's task metrics are labelled by task type and service, not by step, so an SLO of a step
has no rules (``Rules.skipped`` says so); a latency threshold that is not one of the latency
histograms' bucket bounds is counted at the largest bound below it (``Rules.notes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from podium.observability.metrics import LATENCY_BUCKETS_S
from podium.slo.budget import ALERTS, burn_windows
from podium.slo.durations import format_duration
from podium.slo.model import LatencyObjective, Slo

__all__ = ["RECORD", "Rules", "build_rules"]

RECORD = "podium_slo:error_ratio:rate"
"""Recording rules' names: ``podium_slo:error_ratio:rate1h`` and so on, labelled ``slo``."""

# Ended without doing the step's work: not an outcome of it (as Podium's own count has it).
_NOT_OUTCOMES = "CANCELED|SKIPPED"


@dataclass
class Rules:
    groups: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Why an SLO got no rules, one line each."""
    notes: list[str] = field(default_factory=list)
    """Where the rules measure something other than what the SLO says, one line each."""

    def to_yaml(self) -> str:
        return str(yaml.safe_dump({"groups": self.groups}, sort_keys=False, width=10_000))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bucket(threshold_ms: int) -> float | None:
    """The largest latency bucket bound at or below the threshold."""
    fitting = [b for b in LATENCY_BUCKETS_S if b * 1000 <= threshold_ms]
    return max(fitting) if fitting else None


def _le(bound: float) -> str:
    # prometheus_client writes bucket bounds as Go would: 1.0, 2.5, 0.005.
    return repr(float(bound))


def _error_ratio(slo: Slo, window: str, bound: float | None) -> str:
    if slo.scope == "workflow":
        selector = f"workflow={_quote(slo.workflow or '')}"
        if isinstance(slo.objective, LatencyObjective):
            return (
                f"1 - (sum(rate(podium_run_duration_seconds_bucket{{{selector},"
                f'le="{_le(bound or 0)}"}}[{window}])) / '
                f"sum(rate(podium_run_duration_seconds_count{{{selector}}}[{window}])))"
            )
        good = (
            "COMPLETED" if slo.objective.count_compensated_as_failure else "COMPLETED|COMPENSATED"
        )
        return (
            f'sum(rate(podium_runs_finished_total{{{selector},status!~"{good}"}}[{window}])) / '
            f"sum(rate(podium_runs_finished_total{{{selector}}}[{window}]))"
        )
    selector = f"service={_quote(slo.service or '')}"
    if isinstance(slo.objective, LatencyObjective):
        return (
            f"1 - (sum(rate(podium_task_latency_seconds_bucket{{{selector},"
            f'le="{_le(bound or 0)}"}}[{window}])) / '
            f"sum(rate(podium_task_latency_seconds_count{{{selector}}}[{window}])))"
        )
    return (
        f"sum(rate(podium_tasks_finished_total{{{selector},"
        f'status!~"COMPLETED|{_NOT_OUTCOMES}"}}[{window}])) / '
        f'sum(rate(podium_tasks_finished_total{{{selector},status!~"{_NOT_OUTCOMES}"}}[{window}]))'
    )


def _group(slo: Slo, bound: float | None) -> dict[str, Any]:
    windows = {label: format_duration(ms) for label, ms in burn_windows(slo.window_ms).items()}
    rules: list[dict[str, Any]] = [
        {
            "record": f"{RECORD}{label}",
            "expr": _error_ratio(slo, window, bound),
            "labels": {"slo": slo.name},
        }
        for label, window in windows.items()
    ]
    allowed = 1 - slo.target
    for alert in ALERTS:
        threshold = f"({alert.burn_rate} * {allowed:.6g})"
        long_ratio = f'{RECORD}{alert.long}{{slo="{slo.name}"}}'
        short_ratio = f'{RECORD}{alert.short}{{slo="{slo.name}"}}'
        rules.append(
            {
                "alert": f"PodiumSLOBurn{alert.long}",
                "expr": f"{long_ratio} > {threshold} and {short_ratio} > {threshold}",
                "labels": {
                    "slo": slo.name,
                    "severity": alert.severity,
                    "long_window": windows[alert.long],
                    "short_window": windows[alert.short],
                },
                "annotations": {
                    "summary": (
                        f"SLO {slo.name} burns its error budget over {alert.burn_rate}x as fast "
                        f"as allowed (over {windows[alert.long]} and {windows[alert.short]})"
                    ),
                },
            }
        )
    return {"name": f"podium-slo-{slo.name}", "rules": rules}


def build_rules(slos: list[Slo]) -> Rules:
    built = Rules()
    for slo in sorted(slos, key=lambda s: s.name):
        if slo.scope == "step":
            built.skipped.append(
                f"{slo.name}: Podium's metrics have no step label; its value is on /metrics "
                f"as podium_slo_value"
            )
            continue
        bound = None
        if isinstance(slo.objective, LatencyObjective):
            bound = _bucket(slo.objective.threshold_ms)
            if bound is None:
                built.skipped.append(
                    f"{slo.name}: {slo.objective.threshold_ms} ms is below every latency bucket"
                )
                continue
            if bound * 1000 != slo.objective.threshold_ms:
                built.notes.append(
                    f"{slo.name}: {slo.objective.threshold_ms} ms is no bucket bound; counted "
                    f"at {bound} s, the largest bound below it"
                )
        if slo.scope == "service" and slo.workflow is not None:
            built.notes.append(
                f"{slo.name}: task metrics have no workflow label; the rules count the service "
                f"{slo.service}'s tasks in every workflow"
            )
        built.groups.append(_group(slo, bound))
    return built
