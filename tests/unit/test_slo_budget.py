"""The error-budget math, the windows and the SLO model's checks."""

from __future__ import annotations

import pytest

from podium.errors import ValidationError
from podium.slo.budget import Counts, budget_remaining, burn_rate, burn_windows, nearest_rank
from podium.slo.durations import format_duration, parse_duration
from podium.slo.model import LatencyObjective, SuccessObjective, parse_slo

DAY = 86_400_000


def test_budget_and_burn_from_counts():
    # 99.5%: 0.5% may fail. 1,000 events with 2 bad spend 40% of the budget.
    counts = Counts(1000, 998)
    assert budget_remaining(counts, 0.995) == pytest.approx(0.6)
    assert burn_rate(counts, 0.995) == pytest.approx(0.4)
    # Exactly on target: nothing left, burning at 1x. Below: overspent.
    assert budget_remaining(Counts(200, 199), 0.995) == pytest.approx(0.0)
    assert burn_rate(Counts(200, 199), 0.995) == pytest.approx(1.0)
    assert budget_remaining(Counts(10, 8), 0.9) == pytest.approx(-1.0)
    # No events: nothing spent, nothing burning, no value.
    assert Counts().ratio is None
    assert budget_remaining(Counts(), 0.99) == 1.0 and burn_rate(Counts(), 0.99) == 0.0
    # All bad at 99.9%: the budget goes 1,000 times as fast as allowed.
    assert burn_rate(Counts(5, 0), 0.999) == pytest.approx(1000.0)


def test_burn_windows_are_the_workbooks_scaled_to_the_slo_window():
    assert burn_windows(30 * DAY) == {
        "5m": 300_000,
        "30m": 1_800_000,
        "1h": 3_600_000,
        "6h": 21_600_000,
        "1d": DAY,
        "3d": 3 * DAY,
    }
    scaled = burn_windows(28 * DAY)
    assert scaled["1h"] == 56 * 60_000 and scaled["5m"] == 280_000
    assert format_duration(scaled["5m"]) == "4m40s"
    assert format_duration(scaled["3d"]) == "2d19h12m"
    # An hour's SLO: its 1h window is 5 s; its 5m one would be 0.4 s, and is a second.
    short = burn_windows(3_600_000)
    assert (short["1h"], short["5m"]) == (5_000, 1_000)


def test_nearest_rank():
    assert nearest_rank(95, 20) == 18  # the 19th of 20
    assert nearest_rank(50, 12) == 5
    assert nearest_rank(90, 10) == 8
    assert nearest_rank(99, 1) == 0


def test_durations():
    assert parse_duration("28d", "window") == 28 * DAY
    assert parse_duration("90m", "window") == 90 * 60_000
    for bad in ("", "0d", "1.5h", "3 days", 7, None):
        with pytest.raises(ValidationError) as caught:
            parse_duration(bad, "window")
        assert caught.value.field == "window"


def test_parsed_slos_keep_their_canonical_body():
    slo = parse_slo(
        {
            "name": "checkout-latency",
            "workflow": "checkout",
            "objective": {"latency": {"percentile": 95, "thresholdMs": 2000}},
            "window": "28d",
        }
    )
    assert slo.objective == LatencyObjective(95.0, 2000)
    assert (slo.scope, slo.target, slo.window_ms) == ("workflow", 0.95, 28 * DAY)
    assert parse_slo(slo.to_json()) == slo
    service = parse_slo(
        {"name": "p", "service": "payments", "objective": {"success": {"target": 0.995}}}
    )
    assert service.objective == SuccessObjective(0.995, True)
    assert (service.scope, service.window) == ("service", "30d")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x y", "workflow": "w", "objective": {"success": {"target": 0.9}}}, "name"),
        ({"name": "x", "objective": {"success": {"target": 0.9}}}, "workflow"),
        ({"name": "x", "step": "s", "objective": {"success": {"target": 0.9}}}, "workflow"),
        ({"name": "x", "workflow": "w", "objective": {}}, "objective"),
        (
            {"name": "x", "workflow": "w", "objective": {"success": {"target": 1}}},
            "objective.success.target",
        ),
        (
            {"name": "x", "workflow": "w", "objective": {"latency": {"percentile": 95}}},
            "objective.latency.thresholdMs",
        ),
        (
            {
                "name": "x",
                "workflow": "w",
                "objective": {"latency": {"percentile": 100, "thresholdMs": 1}},
            },
            "objective.latency.percentile",
        ),
        (
            {
                "name": "x",
                "workflow": "w",
                "objective": {"success": {"target": 0.9}},
                "window": "5m",
            },
            "window",
        ),
        (
            {
                "name": "x",
                "workflow": "w",
                "objective": {"success": {"target": 0.9}},
                "owner": "me",
            },
            "owner",
        ),
    ],
)
def test_bad_slos_are_refused_naming_the_field(body, field):
    with pytest.raises(ValidationError) as caught:
        parse_slo(body)
    assert caught.value.field == field
