"""The order demo's child processes: starting them, waiting for them, and stopping every one.

Each service of the demo (the Podium server, the shipping service, the workers) runs as its
own process with its output in ``<name>.log``, as it would in production.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

__all__ = [
    "HOST",
    "REPO_ROOT",
    "Child",
    "Children",
    "DemoError",
    "ensure_port_free",
    "free_port",
    "log_tail",
    "reset_database",
    "show",
    "wait_until_ready",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


class DemoError(Exception):
    """The demo cannot go on; the message says why and, where it helps, which log to read."""


def show(path: Path) -> str:
    """``path`` relative to the working directory when it is under it: shorter to read."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _parent_death_hook() -> Callable[[], None] | None:
    """On Linux, a hook that makes a child get SIGTERM when the demo dies, even by SIGKILL.

    try/finally covers every way out of the demo except being killed outright; this covers
    that one, so that no server or worker is ever left behind.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return hook


@dataclass(slots=True)
class Child:
    """A service process the demo started, and the log its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]


class Children:
    """Starts the demo's processes and makes sure every one of them is stopped."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        self._preexec = _parent_death_hook()
        self._env = dict(os.environ)
        # The children must import ``examples`` and ``podium`` from this tree wherever the demo
        # was started from, and write their logs as they go, not when a buffer fills.
        self._env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
        )
        self._env["PYTHONUNBUFFERED"] = "1"

    def start(self, name: str, *args: str) -> Child:
        """Start ``python -m <args>`` with the demo's own interpreter, output to ``<name>.log``."""
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("wb")
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", *args],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=self._env,
                # Their own session: Ctrl-C reaches only the demo, which then stops them in
                # order (workers first) instead of everything dying at once mid-request.
                start_new_session=True,
                # preexec_fn is unsafe only with threads running; none are until the live view.
                preexec_fn=self._preexec,
            )
        except BaseException:
            log_file.close()
            raise
        child = Child(name, process, log_path, log_file)
        self.children.append(child)
        return child

    def check_alive(self) -> None:
        """Raise :class:`DemoError` if a child has exited: nothing would make progress then."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise DemoError(
                    f"the {child.name} process exited with code {code}; "
                    f"see {show(child.log_path)}\n{log_tail(child.log_path)}"
                )

    def stop_all(self, timeout: float = 5.0) -> None:
        """Stop the children one by one, last started first: SIGTERM, then SIGKILL after ``timeout``.

        One by one, so that the workers have left before the server goes: they then finish
        what they hold and post it instead of seeing the server vanish under them.
        """
        while self.children:
            child = self.children.pop()
            _signal(child.process, signal.SIGTERM)
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal(child.process, signal.SIGKILL)
                child.process.wait()
            finally:
                child.log_file.close()


def _signal(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the child's process group (it leads its own), so helpers it spawned go too."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        # Not (or no longer) a group leader: signal the process itself.
        try:
            process.send_signal(sig)
        except ProcessLookupError:
            pass


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a child's log, indented, to show next to an error."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    tail = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + line for line in tail)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int) -> None:
    """Fail early, and helpfully, when the asked-for port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers set it, so that a port in TIME_WAIT from a previous demo still counts free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise DemoError(
                f"port {port} is already in use (another Podium?): choose another port with "
                f"PODIUM_PORT (PODIUM_PORT=8081 make demo) or --port; --port 0 takes any free one"
            ) from None


def wait_until_ready(
    client: httpx.Client, url: str, child: Child, children: Children, timeout: float
) -> float:
    """Poll ``url`` until it answers 200; returns how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        children.check_alive()
        try:
            if client.get(url, timeout=1.0).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise DemoError(
        f"the {child.name} did not answer {url} within {timeout:.0f} s; see {show(child.log_path)}\n"
        f"{log_tail(child.log_path)}"
    )


def reset_database(db: Path) -> None:
    """Remove a previous demo database (and SQLite's side files) so each demo starts afresh."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
