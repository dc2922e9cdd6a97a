"""The big-run benchmark at a tiny size, so that it cannot rot unnoticed.

It starts a real server and worker on SQLite, as the full benchmark does, and reads the report
it writes: every part must have produced its row, with numbers that make sense.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# ``bench`` is not an installed package: make it importable however pytest was started.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.big_runs.__main__ import main  # noqa: E402
from bench.big_runs.loop import tenths  # noqa: E402
from bench.big_runs.podium_server import limits_for  # noqa: E402


def _row(report: str, starts: str) -> list[str]:
    for line in report.splitlines():
        if line.startswith(f"| {starts} |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row {starts!r} in:\n{report}")


def _number(cell: str) -> float:
    return float(re.sub(r"[,x]", "", cell))


def test_a_tiny_run_reports_every_part(tmp_path):
    path = main(
        [
            "--store", "sqlite", "--iterations", "20", "--branches", "10",
            "--memory-tasks", "30", "--fan-out-runs", "1", "--peers", "none",
            "--label", "smoke", "--out", str(tmp_path),
        ]
    )  # fmt: skip
    assert path.name.endswith("-big-runs-smoke.md")
    report = path.read_text()
    assert "What could not run" not in report, report
    loop = _row(report, "SQLite")  # the DO_WHILE table comes first
    assert _number(loop[1]) == 20
    first, last, ratio = (_number(c) for c in loop[3:6])
    assert first > 0 and last > 0
    assert ratio == pytest.approx(last / first, abs=0.01)
    fan_out = _row(report, "Podium (SQLite)")
    assert _number(fan_out[1]) > 0
    memory = [line for line in report.splitlines() if line.startswith("| SQLite | 33 |")]
    assert memory, report  # 30 branches, the fork, the join and the wait
    cells = [c.strip() for c in memory[0].strip("|").split("|")]
    stored, held = _number(cells[2]), _number(cells[4])
    assert stored > 1000 and held > 0
    assert _number(cells[6]) == pytest.approx(held / stored, abs=0.01)
    assert "| DO_WHILE last/first tenth <= 1.5, SQLite |" in report
    assert "| fan-out Podium/Restate <= 1.0, SQLite | no Restate figure | not judged |" in report


def test_tenths_time_the_first_and_last_tenth_between_end_times():
    # 20 iterations: 10 ms apart for the first half, 30 ms apart after.
    ends = [10 * i for i in range(10)] + [90 + 30 * i for i in range(1, 11)]
    assert tenths(ends) == (10.0, 30.0)
    assert tenths([0, 5]) == (5.0, 5.0)
    with pytest.raises(ValueError):
        tenths([3])


def test_limits_are_raised_to_the_sizes_never_below_the_defaults():
    small = limits_for(10, 10, 10)
    assert small == {
        "PODIUM_MAX_LOOP_ITERATIONS": "10000",
        "PODIUM_MAX_TASKS_PER_RUN": "20000",
        "PODIUM_MAX_FORK_WIDTH": "1000",
    }
    big = limits_for(50_000, 1000, 10_000)
    assert big["PODIUM_MAX_LOOP_ITERATIONS"] == "50001"
    assert int(big["PODIUM_MAX_TASKS_PER_RUN"]) > 50_000
    assert big["PODIUM_MAX_FORK_WIDTH"] == "10000"
