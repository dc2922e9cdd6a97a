"""The distributed backend: PostgreSQL, shared by any number of server instances.

Each unit of work runs in its own transaction on a pooled connection, in a thread of the
store's own, so units from one instance run side by side and PostgreSQL's row locks keep
them — and every other instance's — apart. A unit that loses a race (a deadlock, a
serialization failure, a duplicate insert by another instance) is rolled back and run again
from scratch. Callers are answered only after the commit.

When the connection to the primary is lost (a crash, a shutdown, a failover), units fail at
once with a 503 until a probe reaches a primary again (``postgres_outage``); a connection
string naming several hosts finds whichever of them accepts writes (``postgres_conninfo``).

Instances hear of each other's newly queued tasks through ``LISTEN``/``NOTIFY``, so a long
poll parked on one instance wakes when another instance queues its task. An instance skips
its own notes (``ready_notes``): it has woken its own polls already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors, sql
from psycopg_pool import ConnectionPool, PoolTimeout

from podium.errors import StoreError, StoreUnavailableError, ValidationError
from podium.resilience.backoff import Backoff, backoff_delay
from podium.store.base import StoreTx
from podium.store.migrations import migrations, statements
from podium.store.postgres_conninfo import is_postgres_url, primary_conninfo
from podium.store.postgres_numbering import align_numbering
from podium.store.postgres_outage import Outage, is_primary_lost
from podium.store.postgres_tx import PostgresTx
from podium.store.ready_notes import new_origin, queue_heard
from podium.store.run_cache import RunCache

__all__ = ["PostgresStore", "is_postgres_url", "migrate"]

T = TypeVar("T")
log = logging.getLogger("podium.store")

_RETRYABLE = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.UniqueViolation,
    pg_errors.LockNotAvailable,
)
_MAX_ATTEMPTS = 8
_MIGRATION_LOCK = 0x706F6469756D  # "podium": one advisory lock id for every instance
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_CHECKOUT_TIMEOUT_S = 5.0
"""How long a unit waits for a pooled connection. Each of the store's threads has one, so a
wait means connections are being replaced; a longer one means the server is not answering."""
_FRESH_S = 1.0
"""A unit committed this recently shows the store ready without asking the server again."""


class PostgresStore:
    """The PostgreSQL backend. ``schema`` keeps several Podiums apart in one database."""

    name = "store.postgres"
    side_by_side = True

    def __init__(self, url: str, *, schema: str = "public", pool_size: int = 10) -> None:
        if not is_postgres_url(url):
            raise StoreError(
                f"a PostgreSQL URL starts with postgresql://, not {url.split(':', 1)[0]!r}",
                service=self.name,
                field="database_url",
            )
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(
                f"schema {schema!r} is not a plain identifier", service=self.name, field="schema"
            )
        self.url = url
        self.conninfo = primary_conninfo(url)
        self.schema = schema
        self.pool_size = max(1, pool_size)
        self.channel = f"podium_ready_{schema}"
        self.origin = new_origin()
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._runs = RunCache()  # decoded runs, shared by the units on every pool thread
        self._listener: _Listener | None = None
        self._on_ready: Callable[[str | None], None] | None = None
        self._outage = Outage(self._reconnect)
        self._last_ok = 0.0

    # ---- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._open_sync)
        if self._on_ready is not None:
            self._start_listener(loop)

    def _open_sync(self) -> None:
        try:
            migrate(self.conninfo, self.schema)
            pool = self._new_pool(timeout=30)
        except (psycopg.Error, PoolTimeout) as exc:
            raise _wrap(exc, self.name) from exc
        self._pool = pool
        self._threads = ThreadPoolExecutor(self.pool_size, thread_name_prefix="podium-pg")

    def _new_pool(self, timeout: float) -> ConnectionPool[psycopg.Connection[Any]]:
        pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.conninfo,
            min_size=self.pool_size,
            max_size=self.pool_size,
            # Autocommit: each unit's PostgresTx sends BEGIN and COMMIT itself, with its
            # first and last statements rather than in round trips of their own.
            kwargs={"options": f"-c search_path={self.schema}", "autocommit": True},
            timeout=_CHECKOUT_TIMEOUT_S,
            open=False,
            name="podium",
        )
        try:
            pool.open(wait=True, timeout=timeout)
        except BaseException:
            pool.close(timeout=0)
            raise
        return pool

    def _reconnect(self) -> None:
        """The outage's probe: a primary answers, so units go to a fresh pool of its
        connections; the old pool's lead to the server that was lost."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is None or row[0]:
                raise StoreUnavailableError("the server reached is a standby", service=self.name)
        fresh = self._new_pool(timeout=5)
        old, self._pool = self._pool, fresh
        if old is None:  # closed meanwhile
            self._pool = None
            fresh.close(timeout=0)
        else:
            old.close(timeout=0)

    async def close(self) -> None:
        self._outage.stop()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        pool, threads = self._pool, self._threads
        self._pool = self._threads = None
        if threads is not None:
            await asyncio.get_running_loop().run_in_executor(None, threads.shutdown)
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, pool.close)

    def subscribe(self, on_ready: Callable[[str | None], None]) -> None:
        self._on_ready = on_ready
        if self._pool is not None and self._listener is None:
            self._start_listener(asyncio.get_running_loop())

    def _start_listener(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._on_ready is not None
        callback = self._on_ready

        def deliver(queue: str | None) -> None:
            loop.call_soon_threadsafe(callback, queue)

        self._listener = _Listener(self.conninfo, self.channel, self.origin, deliver)
        self._listener.start()

    # ---- units of work --------------------------------------------------------------------

    async def write(self, fn: Callable[[StoreTx], T]) -> T:
        if self._pool is None or self._threads is None:
            raise StoreError("the store is not open", service=self.name)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._run, fn)

    # Reads run the same way: a transaction of their own sees only committed state.
    read = write

    async def ping(self) -> None:
        if self._pool is None:
            raise StoreError("the store is not open", service=self.name)
        if self._outage.down:
            raise StoreUnavailableError(self._outage.describe(), service=self.name)
        if time.monotonic() - self._last_ok < _FRESH_S:
            return
        await asyncio.get_running_loop().run_in_executor(None, self._run, _select_one)

    def _run(self, fn: Callable[[StoreTx], T]) -> T:
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            if self._outage.down:
                raise StoreUnavailableError(self._outage.describe(), service=self.name)
            pool = self._pool
            if pool is None:
                raise StoreError("the store is closed", service=self.name)
            try:
                with pool.connection() as conn:
                    tx = PostgresTx(conn, self.channel, self.origin, self._runs)
                    tx.begin()
                    try:
                        result = fn(tx)
                        tx.commit()
                    except BaseException:
                        tx.runs_discarded()
                        tx.rollback()
                        raise
                    # Only now are the runs written the ones stored: mark them so, and cache
                    # them (a unit run again after losing a race cached nothing).
                    tx.runs_committed()
                    self._last_ok = time.monotonic()
                    return result
            except _RETRYABLE as exc:
                if attempt == _MAX_ATTEMPTS:
                    raise _wrap(exc, self.name) from exc
                # Back off a little, with full jitter, so the two sides of a deadlock don't
                # meet again at once.
                time.sleep(backoff_delay(attempt - 1, 0.002, 0.016, jitter="full"))
            except (psycopg.Error, PoolTimeout) as exc:
                if is_primary_lost(exc) and pool is self._pool:
                    self._outage.began(exc)
                if is_primary_lost(exc):
                    raise StoreUnavailableError(
                        f"lost the database ({type(exc).__name__}: {exc})".strip(),
                        service=self.name,
                    ) from exc
                raise _wrap(exc, self.name) from exc
        raise AssertionError("unreachable")


def _select_one(tx: StoreTx) -> None:
    """The health check's unit: the server answers a statement."""
    assert isinstance(tx, PostgresTx)
    tx.conn.execute("SELECT 1")


def migrate(url: str, schema: str = "public") -> list[int]:
    """Apply the migrations ``schema`` lacks; returns the versions applied.

    Instances starting together take one advisory lock, so each migration runs exactly once.
    """
    try:
        return _migrate(url, schema)
    except psycopg.Error as exc:
        raise _wrap(exc, PostgresStore.name) from exc


def _migrate(url: str, schema: str) -> list[int]:
    applied: list[int] = []
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ DEFAULT now())"
            )
            align_numbering(conn)  # a database migrated before the numbers matched SQLite's
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, text in migrations("postgres"):
                if version in done:
                    continue
                for statement in statements(text):
                    conn.execute(statement.encode())
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied.append(version)
    return applied


class _Listener:
    """A thread holding one connection in ``LISTEN``, reconnecting when it drops."""

    def __init__(
        self, url: str, channel: str, origin: str, deliver: Callable[[str | None], None]
    ) -> None:
        self.url = url
        self.channel = channel
        self.origin = origin
        self.deliver = deliver
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="podium-pg-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        # At most a second: polls parked here hear nothing from other instances until it
        # listens again, so after an outage it must be back with the rest.
        backoff = Backoff(0.1, 1.0)
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    # Whatever was announced while not listening is unknown: wake every poll.
                    self.deliver(None)
                    backoff.reset()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            queue = queue_heard(note.payload, self.origin)
                            if queue is not None:
                                self.deliver(queue)
            except psycopg.Error as exc:
                log.warning("lost the PostgreSQL notification connection (%s); reconnecting", exc)
                with contextlib.suppress(Exception):
                    self._stop.wait(backoff.next())


def _wrap(exc: BaseException, service: str) -> StoreError | ValidationError:
    """Driver errors never leave the store: they become StoreError (503, retry later), or,
    for a value no column can hold (a NUL in text, a number out of range), ValidationError:
    trying again cannot help. Requests are held to those bounds before they get here
    (``dsl/bounds.py``); this catches what a run computes, as SQLite's store does."""
    wrapped: StoreError | ValidationError
    if isinstance(exc, pg_errors.DataError):
        wrapped = ValidationError(
            f"a value cannot be stored (PostgreSQL: {exc})".strip(), service=service
        )
    else:
        wrapped = StoreError(f"{type(exc).__name__}: {exc}".strip(), service=service)
    wrapped.__cause__ = exc
    return wrapped
