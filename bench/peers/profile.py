"""Where Podium's server spends its CPU under W2: py-spy samples, summed per function.

py-spy (installed in the peers' virtualenv) records on-CPU stacks of the server process while
W2 runs; the collapsed stacks are summed into self time (the frame on top) and total time (the
frame anywhere on the stack), as shares of all samples.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

from bench.peers.common import VENV

_LINE = re.compile(r"^(.*) (\d+)$")
_FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def record(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(VENV / "bin" / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/podium/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/podium/":
                path = "podium/" + path
            break
    return f"{match['func']} ({path})"


def summarise(raw: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The ``top`` functions by self and by total share of samples (percent)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        count = int(match[2])
        # The first frame is the thread's name, which says nothing about cost.
        frames = [_short(f) for f in match[1].split(";")[1:]]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        # Totals list Podium's own functions: the frames above them (threads, the event loop,
        # the CLI) are on every stack and say nothing about where to cut.
        for name in {f for f in frames if "(podium/" in f}:
            total[name] += count
    if not samples:
        return {"self": [], "total": []}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, 100 * n / samples) for name, n in counter.most_common(top)]

    return {"self": share(own), "total": share(total), "samples": [("samples", samples)]}
