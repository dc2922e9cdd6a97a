"""Starting and stopping real ``podium`` processes for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from podium.testing import free_port

ROOT = Path(__file__).resolve().parents[2]


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``python -m podium *args``, its output appended to ``log``; ``env`` adds variables."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "podium", *args],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def wait_healthy(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"no server answered at {url}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def spawn_servers(
    count: int, logs: Path, env: dict[str, str]
) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    """``count`` Podium servers on free loopback ports, logging to ``logs/server<i>.log``:
    their processes and base URLs (not yet healthy: ``wait_healthy`` each)."""
    ports = [free_port() for _ in range(count)]
    servers = [
        spawn(["server", "--port", str(port)], logs / f"server{i}.log", env)
        for i, port in enumerate(ports)
    ]
    return servers, [f"http://127.0.0.1:{port}" for port in ports]
