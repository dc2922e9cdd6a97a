"""PostgreSQL servers of a test's own: a primary and, if asked, a streaming standby.

Made with ``initdb``, ``pg_basebackup`` and ``pg_ctl`` under a temporary directory, on free
loopback ports, and removed afterwards. PostgreSQL refuses to run as root, so as root the
servers run as the ``postgres`` user (``runuser``), which owns their directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from podium.testing import free_port

BIN = Path(os.environ.get("PODIUM_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "podium"


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(*command: str) -> None:
    done = subprocess.run(_as_owner(list(command)), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")


class Server:
    """One PostgreSQL server: its data directory, port and ``pg_ctl`` actions."""

    def __init__(self, root: Path, name: str) -> None:
        self.data = root / name
        self.log = root / f"{name}.log"
        self.port = free_port()
        self.socket_dir = root
        self.killed = False

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def configure(self, **settings: str) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = '{value}'\n")

    def start(self) -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def reload(self) -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(self.data), "reload")

    def promote(self) -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "promote")

    def kill(self) -> None:
        """SIGKILL the postmaster: no shutdown, no checkpoint, as a crashed machine."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        # Its pid may live on as a zombie where nothing reaps orphans (a container's init),
        # and pg_ctl would take it for a running server.
        self.killed = True

    def running(self) -> bool:
        done = subprocess.run(
            _as_owner([str(BIN / "pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
            timeout=30,
        )
        return done.returncode == 0


def _settings(server: Server) -> dict[str, str]:
    return {
        "listen_addresses": "127.0.0.1",
        "port": str(server.port),
        "unix_socket_directories": str(server.socket_dir),
        "wal_level": "replica",
        "max_wal_senders": "5",
        "max_connections": "100",
        "shared_buffers": "64MB",
        # A process kill leaves the OS's page cache, so skipping fsync loses nothing these
        # tests look at and spares the shared disk.
        "fsync": "off",
    }


@contextmanager
def cluster(standby: bool) -> Iterator[tuple[Server, Server | None]]:
    """A primary with a database ``podium``, and a standby in synchronous replication
    (``synchronous_standby_names`` set on the primary only, so the standby, once promoted,
    does not wait for a standby of its own)."""
    if not (BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL binaries in {BIN}")
    root = Path(tempfile.mkdtemp(prefix="podium-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary = Server(root, "primary")
    replica = Server(root, "standby") if standby else None
    try:
        _run(str(BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "-A", "trust", "-N")
        primary.configure(**_settings(primary))
        primary.start()
        with psycopg.connect(primary.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        if replica is not None:
            _run(
                str(BIN / "pg_basebackup"),
                "-D",
                str(replica.data),
                "-d",
                f"host=127.0.0.1 port={primary.port} user=postgres",
                "-X",
                "stream",
                "-c",
                "fast",  # a checkpoint now, not one spread over minutes
            )
            replica.configure(
                **_settings(replica),
                primary_conninfo=(
                    f"host=127.0.0.1 port={primary.port} user=postgres application_name=standby"
                ),
            )
            _run("touch", str(replica.data / "standby.signal"))
            replica.start()
            primary.configure(synchronous_standby_names="standby")
            primary.reload()
            _wait_synchronous(primary)
        yield primary, replica
    finally:
        for server in (primary, replica):
            if server is not None and not server.killed and server.running():
                server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def _wait_synchronous(primary: Server) -> None:
    deadline = time.monotonic() + 30
    with psycopg.connect(primary.url("postgres"), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'"
            ).fetchone()
            if row is not None and row[0] == "sync":
                return
            time.sleep(0.05)
    raise AssertionError("the standby never became synchronous")
