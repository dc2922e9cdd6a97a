"""Where a benchmark's report goes: ``bench/results/<date>-<kind>.md``, never over another.

A second run on the same day gets ``-2``, a third ``-3``: earlier results stay as they were
recorded, and the docs that cite them stay true.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def write_report(out: Path, when: dt.datetime, kind: str, report: str) -> Path:
    """Write ``report`` under ``out`` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{when:%Y-%m-%d}-{kind}"
    path = out / f"{stem}.md"
    n = 1
    while path.exists():
        n += 1
        path = out / f"{stem}-{n}.md"
    path.write_text(report)
    return path
