"""The embedded default backend: one SQLite file in WAL mode, one writer thread, group commit.

Every unit of work runs on the store's own thread inside ``SAVEPOINT``s of one transaction;
whatever units are waiting when a transaction starts share its commit. A failing unit is rolled
back to its savepoint alone. Callers are answered only after the commit, so nothing is
acknowledged before it is durable. A run the units change is written once per transaction,
before the commit (``pending_runs``).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from podium.errors import StoreError, ValidationError
from podium.store.base import StoreTx
from podium.store.migrations import migrations, statements
from podium.store.sqlite_tx import SQLiteTx

__all__ = ["SQLiteStore", "migrate"]

T = TypeVar("T")
_MAX_BATCH = 512
_Job = tuple[Callable[[StoreTx], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class SQLiteStore:
    """The SQLite backend. ``synchronous="FULL"`` makes each commit survive power loss too."""

    name = "store.sqlite"
    side_by_side = False

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        if str(path) == ":memory:":
            raise StoreError(
                "an in-memory database cannot keep runs across a restart; give a file path",
                service=self.name,
                field="database",
            )
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise StoreError(
                f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}",
                service=self.name,
                field="sqlite_synchronous",
            )
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self._thread is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()

        def start() -> None:
            try:
                self._conn = self._connect()
            except BaseException as exc:
                loop.call_soon_threadsafe(_settle, ready, None, _wrap(exc, self.name))
                return
            loop.call_soon_threadsafe(_settle, ready, None, None)
            self._serve()

        self._thread = threading.Thread(target=start, name="podium-sqlite", daemon=True)
        self._thread.start()
        await ready

    async def close(self) -> None:
        if self._thread is None:
            return
        self._jobs.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._thread = None

    async def write(self, fn: Callable[[StoreTx], T]) -> T:
        if self._thread is None:
            raise StoreError("the store is not open", service=self.name)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, future, loop))
        return await future

    # Reads share the writer's thread: SQLite serialises writers anyway, and a read that sees
    # only committed state between units of work needs no extra isolation logic.
    read = write

    async def ping(self) -> None:
        """The file is this process's own: it is ready while the store is open."""
        if self._thread is None or not self._thread.is_alive():
            raise StoreError("the store is not open", service=self.name)

    def subscribe(self, on_ready: Callable[[str | None], None]) -> None:
        """Nothing to hear: one process owns a SQLite file, and it wakes its own polls."""

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        self._migrate(conn)
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> list[int]:
        applied: list[int] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT DEFAULT CURRENT_TIMESTAMP)"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, sql in migrations("sqlite"):
                if version in done:
                    continue
                for statement in statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
                applied.append(version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return applied

    def _serve(self) -> None:
        conn = self._conn
        assert conn is not None
        tx = SQLiteTx(conn)
        while True:
            first = self._jobs.get()
            if first is None:
                conn.close()
                return
            batch = [first]
            stop = False
            while len(batch) < _MAX_BATCH:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._run_batch(conn, tx, batch)
            if stop:
                conn.close()
                return

    def _run_batch(self, conn: sqlite3.Connection, tx: SQLiteTx, batch: list[_Job]) -> None:
        try:
            outcomes = self._in_transaction(conn, tx, batch)
        except _RunNotWritten:
            # A run could not be encoded when the batch was about to commit; which unit made
            # it so is unknown by then. Run the batch again writing each unit's runs as it
            # goes, so that the error reaches that unit alone.
            tx.defer_runs = False
            try:
                outcomes = self._in_transaction(conn, tx, batch)
            finally:
                tx.defer_runs = True
        for (_, future, loop), (result, error) in zip(batch, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, result, error)

    def _in_transaction(
        self, conn: sqlite3.Connection, tx: SQLiteTx, batch: list[_Job]
    ) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, _, _ in batch:
                conn.execute("SAVEPOINT unit")
                tx.begin_unit()
                try:
                    result = fn(tx)
                except BaseException as exc:
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    tx.roll_back_unit()
                    outcomes.append((None, _wrap(exc, self.name)))
                else:
                    conn.execute("RELEASE unit")
                    outcomes.append((result, None))
            try:
                tx.pending.store()
            except sqlite3.Error:
                raise
            except Exception as exc:
                raise _RunNotWritten from exc
            conn.execute("COMMIT")
            # Only now are the runs written the ones stored: mark them so, and cache them.
            tx.runs_committed()
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = StoreError(f"could not commit: {exc}", service=self.name)
            outcomes = [(None, failure)] * len(batch)
        except _RunNotWritten:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            tx.pending.end()
            tx.runs_discarded()
        return outcomes


class _RunNotWritten(Exception):
    """Encoding a waiting run failed before the commit."""


def migrate(path: str | Path) -> list[int]:
    """Apply the migrations the file lacks (creating it if need be); returns those applied."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return SQLiteStore._migrate(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"{type(exc).__name__}: {exc}", service=SQLiteStore.name) from exc
    finally:
        conn.close()


def _wrap(exc: BaseException, service: str) -> BaseException:
    """Driver errors never leave the store: they become StoreError."""
    if isinstance(exc, sqlite3.Error):
        wrapped = StoreError(f"{type(exc).__name__}: {exc}", service=service)
        wrapped.__cause__ = exc
        return wrapped
    if isinstance(exc, OverflowError):
        # sqlite3 cannot bind an int past 64 bits: a request's number nothing could match.
        refused = ValidationError(
            f"a number in the request is out of range (SQLite stores at most 2**63-1): {exc}",
            service=service,
        )
        refused.__cause__ = exc
        return refused
    return exc


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
