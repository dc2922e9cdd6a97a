"""The peers suite's second pass: W1 and W2 as the mean of two passes, each pass reported."""

from __future__ import annotations

from bench.peers.common import Outcome, merge_passes
from bench.peers.report import _passes


def _outcome(w1: float, w2: float, low: float, high: float) -> Outcome:
    return Outcome(
        "Engine",
        {
            "W1": {"median_ms_per_step": w1, "p95_ms_per_step": w1 * 2},
            "W2": {"steps_per_s": w2, "low": low, "high": high},
            "W4": {"parked": 10},
        },
    )


def test_w1_and_w2_are_the_mean_of_both_passes_and_the_rest_is_the_first_passs() -> None:
    merged = merge_passes(_outcome(2.0, 1000, 900, 1100), _outcome(1.0, 3000, 2800, 3100))
    assert merged.results["W1"]["median_ms_per_step"] == 1.5
    assert merged.results["W1"]["p95_ms_per_step"] == 3.0
    assert merged.results["W1"]["passes"] == [2.0, 1.0]
    assert merged.results["W2"]["steps_per_s"] == 2000
    assert (merged.results["W2"]["low"], merged.results["W2"]["high"]) == (900, 3100)
    assert merged.results["W4"] == {"parked": 10}
    table = "\n".join(_passes([merged]))
    assert "| Engine | 2.00 | 1.00 | 1,000 | 3,000 |" in table


def test_a_pass_that_failed_leaves_the_other_and_says_so() -> None:
    first = Outcome("Engine", {}, {"W1": "boom"})
    second = _outcome(1.0, 3000, 2800, 3100)
    second.results.pop("W2")
    second.errors["W2"] = "refused"
    merged = merge_passes(first, second)
    assert merged.results["W1"]["median_ms_per_step"] == 1.0
    assert merged.results["W1"]["passes"] == [None, 1.0]
    assert "W1" not in merged.errors
    assert merged.errors["W2 (second pass)"] == "refused"
    assert "W2" not in merged.results
