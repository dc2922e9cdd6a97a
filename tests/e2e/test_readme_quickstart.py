"""The README's first run, as written: its ``greet.json`` and ``greeter.py``, then its shell
block (server, worker, register, start, list, kill) run by bash with ``podium`` on the PATH
the way ``source .venv/bin/activate`` puts it there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from podium.testing import free_port

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def _block(after: str, language: str) -> str:
    found = re.search(re.escape(after) + r".*?```" + language + r"\n(.*?)```", README, re.S)
    assert found, f"README has no {language} block after {after!r}"
    return found.group(1)


def test_the_readme_files_are_the_ones_in_examples_greet() -> None:
    assert _block("(`greet.json`)", "json") == (REPO / "examples/greet/greet.json").read_text()
    assert _block("(`greeter.py`)", "python") == (REPO / "examples/greet/greeter.py").read_text()


def test_the_readme_quickstart_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "greet.json").write_text(_block("(`greet.json`)", "json"))
    (tmp_path / "greeter.py").write_text(_block("(`greeter.py`)", "python"))
    commands = _block("and run them", "bash")
    assert commands.startswith("source .venv/bin/activate")
    # What ``make demo`` leaves: a .venv whose activation puts ``podium`` first on the PATH.
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    shim = bin_dir / "podium"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m podium "$@"\n')
    shim.chmod(0o755)
    (bin_dir / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        # The README's own escape from a busy 8080: the same commands on another port.
        "PODIUM_PORT": str(port),
        "PODIUM_SERVER": f"http://127.0.0.1:{port}",
    }
    env.pop("PODIUM_API_KEY", None)
    done = subprocess.run(
        ["bash", "-e", "-c", commands],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "COMPLETED" in done.stdout and '"message": "Hello, Ada!"' in done.stdout, done.stdout
    assert "greet" in done.stdout.split("COMPLETED", 1)[1]  # ``podium list`` shows the run
    assert (tmp_path / "podium.db").exists()
