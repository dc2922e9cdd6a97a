"""A benchmark's report never replaces one already recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.results_file import write_report

WHEN = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def test_a_second_run_on_the_same_day_gets_a_file_of_its_own(tmp_path: Path) -> None:
    out = tmp_path / "results"
    first = write_report(out, WHEN, "peers", "first")
    second = write_report(out, WHEN, "peers", "second")
    third = write_report(out, WHEN, "peers", "third")
    other = write_report(out, WHEN, "core", "core")
    assert [p.name for p in (first, second, third, other)] == [
        "2026-11-24-peers.md",
        "2026-11-24-peers-2.md",
        "2026-11-24-peers-3.md",
        "2026-11-24-core.md",
    ]
    assert first.read_text() == "first"
    assert second.read_text() == "second"
