"""The official Conductor JavaScript SDK, unmodified, against a Podium server.

``js/sdk_checks.mjs`` drives a server with ``@io-orkes/conductor-javascript`` (pinned in
``js/package-lock.json``): definitions through its MetadataClient, runs through its
WorkflowExecutor and TaskClient, workers in its TaskManager. It prints a JSON line per check;
this test asserts that every expected check ran and passed. The SDK is installed with
``npm ci`` into ``js/node_modules`` once, and again only when the lock changes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from podium.testing import PodiumTestServer

pytestmark = pytest.mark.timeout(240)

JS = Path(__file__).parent / "js"
MODULES = JS / "node_modules"
STAMP = MODULES / ".podium-installed"
"""Holds the digest of the lock (and npm settings) the modules were installed from."""

EXPECTED = [
    "register_definitions",
    "worker_completes_run",
    "read_run_and_tasks",
    "search_workflows",
    "search_tasks",
    "correlated_runs",
    "domain_worker",
    "pause_resume",
    "update_task_by_ref_name",
    "task_client_update_by_ref_name",
    "signal",
    "terminate",
    "retry",
    "rerun",
    "restart",
    "http_flat_input",
    "dynamic_fork_of_http",
    "task_id_and_task_time_references",
    "lambda",
    "workflow_builder_execute",
    "start_by_name",
    "update_task_sync",
    "update_variables",
    "skip_task",
    "in_progress_worker_and_task_logs",
    "non_retryable_failure",
    "exclusive_join",
]
INSTALL_CACHED_S = 60


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: this test runs the Conductor JavaScript SDK and needs "
            "Node.js 18 or later with npm (install them, e.g. `apt-get install nodejs npm`)"
        )
    return path


def _digest() -> str:
    inputs = hashlib.sha256()
    for name in ("package.json", "package-lock.json", ".npmrc"):
        inputs.update(name.encode() + b"\0" + (JS / name).read_bytes() + b"\0")
    return inputs.hexdigest()


def _install(npm: str) -> float:
    """``npm ci`` unless the modules in place came from this lock; the seconds it took."""
    began = time.monotonic()
    digest = _digest()
    # Two test processes on one checkout: the second waits, then finds the modules in place.
    with (JS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (STAMP.is_file() and STAMP.read_text() == digest):
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                cwd=JS,
                capture_output=True,
                text=True,
                timeout=180,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci failed in {JS}:\n{done.stdout}\n{done.stderr}")
            STAMP.write_text(digest)
    return time.monotonic() - began


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable, with the SDK installed beside the checks."""
    node = _tool("node")
    npm = _tool("npm")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < 18:
        pytest.fail(f"the Conductor JavaScript SDK needs Node.js 18 or later, not {version.stdout}")
    installed = STAMP.is_file() and STAMP.read_text() == _digest()
    took = _install(npm)
    if installed:
        assert took < INSTALL_CACHED_S, f"checking the installed SDK took {took:.1f}s"
    return node


def _checks(output: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for line in output.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            found[entry["check"]] = entry
    return found


def test_the_javascript_sdk_drives_podium(node, tmp_path, monkeypatch):
    # No key in the environment: the SDK then asks for no token.
    for name in ("CONDUCTOR_AUTH_KEY", "CONDUCTOR_AUTH_SECRET", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    with PodiumTestServer(tmp_path / "podium.db", sweep_interval_s=0.2) as server:
        done = subprocess.run(
            [node, "sdk_checks.mjs"],
            cwd=JS,
            env={**os.environ, "PODIUM_URL": server.url},
            capture_output=True,
            text=True,
            timeout=90,
        )
    checks = _checks(done.stdout)
    context = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}"
    assert done.returncode == 0, context
    assert list(checks) == EXPECTED, context
    failed = {name: entry["detail"] for name, entry in checks.items() if not entry["ok"]}
    assert not failed, f"{failed}\n{context}"
