"""The peers suite's passes: W1 and W2 as the mean of every pass, each pass reported."""

from __future__ import annotations

from bench.peers.common import Outcome, cpu_probe_ms, merge_passes
from bench.peers.report import _passes


def _outcome(w1: float, w2: float, low: float, high: float, probe: float) -> Outcome:
    return Outcome(
        "Engine",
        {
            "W1": {"median_ms_per_step": w1, "p95_ms_per_step": w1 * 2},
            "W2": {"steps_per_s": w2, "low": low, "high": high},
            "W4": {"parked": 10},
            "cpu": {"probe_ms": probe},
        },
    )


def test_w1_and_w2_are_the_mean_of_the_passes_and_the_rest_is_the_first_passs() -> None:
    merged = merge_passes(
        [
            _outcome(2.0, 1000, 900, 1100, 80),
            _outcome(1.0, 3000, 2800, 3100, 40),
            _outcome(1.5, 2000, 1900, 2100, 60),
        ]
    )
    assert merged.results["W1"]["median_ms_per_step"] == 1.5
    assert merged.results["W1"]["p95_ms_per_step"] == 3.0
    assert merged.results["W1"]["passes"] == [2.0, 1.0, 1.5]
    assert merged.results["W2"]["steps_per_s"] == 2000
    assert (merged.results["W2"]["low"], merged.results["W2"]["high"]) == (900, 3100)
    assert merged.results["W4"] == {"parked": 10}
    assert merged.results["cpu"]["passes"] == [80, 40, 60]
    table = "\n".join(_passes([merged]))
    assert "| Engine | 2.00 | 1.00 | 1.50 | 1,000 | 3,000 | 2,000 | 80 | 40 | 60 |" in table


def test_a_pass_that_failed_leaves_the_others_and_says_so() -> None:
    first = Outcome("Engine", {}, {"W1": "boom"})
    second = _outcome(1.0, 3000, 2800, 3100, 40)
    second.results.pop("W2")
    second.errors["W2"] = "refused"
    merged = merge_passes([first, second])
    assert merged.results["W1"]["median_ms_per_step"] == 1.0
    assert merged.results["W1"]["passes"] == [None, 1.0]
    assert "W1" not in merged.errors
    assert merged.errors["W2 (pass 2)"] == "refused"
    assert "W2" not in merged.results


def test_one_pass_is_reported_as_one() -> None:
    merged = merge_passes([_outcome(2.0, 1000, 900, 1100, 80)])
    assert merged.results["W1"]["median_ms_per_step"] == 2.0
    assert _passes([merged]) == ["W1 and W2 ran once (`--passes 1` or `--quick`)."]


def test_the_cpu_probe_times_real_work() -> None:
    assert 0 < cpu_probe_ms() < 10_000
