"""The machine's floor, measured in the same run as the engines: what one durable commit costs.

fsync/s on a temporary file, SQLite WAL commits/s (synchronous FULL and NORMAL) and
PostgreSQL commits/s from one connection, one row per transaction.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg


def _rate(step: object, seconds: float) -> float:
    count = 0
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        step()  # type: ignore[operator]
        count += 1
    return count / elapsed


def fsyncs_per_s(directory: Path, seconds: float = 2.0) -> float:
    fd, name = tempfile.mkstemp(dir=directory)
    try:

        def write() -> None:
            os.write(fd, b"x" * 512)
            os.fsync(fd)

        return _rate(write, seconds)
    finally:
        os.close(fd)
        os.unlink(name)


def sqlite_commits_per_s(directory: Path, synchronous: str, seconds: float = 2.0) -> float:
    path = directory / f"floor-{synchronous}.db"
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("CREATE TABLE t (v BLOB)")

        def commit() -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t VALUES (?)", (b"x" * 200,))
            db.execute("COMMIT")

        return _rate(commit, seconds)
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def postgres_commits_per_s(url: str, seconds: float = 2.0) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE floor_t (v bytea)")
        payload = b"x" * 200

        def commit() -> None:
            conn.execute("INSERT INTO floor_t VALUES (%s)", (payload,))

        return _rate(commit, seconds)


def postgres_settings(url: str) -> str:
    """The settings that decide what a PostgreSQL commit waits for."""
    with psycopg.connect(url, autocommit=True) as conn:
        shown = [
            f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
            for name in ("fsync", "synchronous_commit", "wal_sync_method")
        ]
    return ", ".join(shown)


def measure(directory: Path, postgres_url: str) -> dict[str, Any]:
    floor: dict[str, Any] = {
        "fsync_per_s": fsyncs_per_s(directory),
        "sqlite_full_commits_per_s": sqlite_commits_per_s(directory, "FULL"),
        "sqlite_normal_commits_per_s": sqlite_commits_per_s(directory, "NORMAL"),
    }
    try:
        floor["postgres_commits_per_s"] = postgres_commits_per_s(postgres_url)
        floor["postgres_settings"] = postgres_settings(postgres_url)
    except psycopg.Error as exc:
        floor["postgres_commits_per_s"] = float("nan")
        floor["postgres_settings"] = f"unreachable: {exc}"
    return floor
