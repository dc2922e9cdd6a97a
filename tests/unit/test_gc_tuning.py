"""The server and ``podium worker`` run with the cycle collector set for a long-lived process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from podium.gc_tuning import THRESHOLDS

# Each in a process of its own: the settings are the whole process's.
_SERVE = textwrap.dedent(
    """
    import gc, json, sys
    import uvicorn
    from podium.server.main import serve
    from podium.settings import Settings

    before = gc.get_threshold()
    uvicorn.Server.run = lambda self, sockets=None: None  # start-up only, no serving
    serve(Settings(database=sys.argv[1]))
    print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))
    """
)
_WORKER = textwrap.dedent(
    """
    import gc, json
    from typer.testing import CliRunner
    from podium.cli import app
    from podium.worker.runner import WorkerRunner

    before = gc.get_threshold()
    WorkerRunner.run = lambda self, burst=False: None  # start-up only, no polling
    result = CliRunner().invoke(
        app, ["worker", "bench.workers", "--server", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 0, result.output
    print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))
    """
)
ROOT = Path(__file__).resolve().parents[2]


def _settings_after(script: str, *args: str) -> tuple[list[int], list[int], int]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    before, after, frozen = json.loads(done.stdout.strip().splitlines()[-1])
    return before, after, frozen


def test_the_server_freezes_what_it_starts_with_and_collects_less_often(tmp_path: Path):
    before, after, frozen = _settings_after(_SERVE, str(tmp_path / "podium.db"))
    assert before[0] < THRESHOLDS[0]
    assert tuple(after) == THRESHOLDS
    assert frozen > 10_000  # the libraries and the app, kept out of every collection


def test_the_worker_command_does_too():
    before, after, frozen = _settings_after(_WORKER)
    assert before[0] < THRESHOLDS[0]
    assert tuple(after) == THRESHOLDS
    assert frozen > 10_000
