"""The local NATS and RabbitMQ servers the bridge tests run against.

A broker that is down is started (as the machine's set-up documents); one that cannot be
started fails the tests that need it — they are never skipped.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

NATS_PORT = 4222
AMQP_PORT = 5672
NATS_START = [
    "start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/nats-server",
    "--", "-a", "127.0.0.1", "-p", str(NATS_PORT), "-js", "-sd", "/var/lib/nats-server",
    "-l", "/var/log/nats-server.log",
]  # fmt: skip
AMQP_START = ["rabbitmq-server", "-detached"]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ensure_broker(name: str, port: int, command: list[str], wait_s: float = 90) -> None:
    if _listening(port):
        return
    if shutil.which(command[0]) is None:
        pytest.fail(f"{name} is not running on port {port} and {command[0]} is not installed")
    subprocess.run(command, check=False, capture_output=True, timeout=60)
    deadline = time.monotonic() + wait_s
    while not _listening(port):
        if time.monotonic() > deadline:
            pytest.fail(f"{name} is not running on port {port} and could not be started")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def nats_url() -> str:
    ensure_broker("NATS", NATS_PORT, NATS_START)
    return f"nats://127.0.0.1:{NATS_PORT}"


@pytest.fixture(scope="session")
def amqp_url() -> str:
    ensure_broker("RabbitMQ", AMQP_PORT, AMQP_START)
    return f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/"


@pytest.fixture
def unique() -> Iterator[str]:
    """A name part no other test (or engineer) on this broker uses."""
    yield uuid.uuid4().hex[:12]
