"""Knowing that the primary is gone, and finding it (or its successor) again.

Without this, a unit that starts while the database is down waits for a pooled connection
until the pool's timeout, and the pool itself reconnects with a backoff that grows to many
seconds, so requests hang and work resumes late. Instead the first unit to lose its
connection declares an outage: until a probe reaches a primary again, units fail at once
with ``StoreUnavailableError`` (503, ``Retry-After``) and ``/api/health`` says the store is not
ready. The probe connects every ``interval_s`` with the store's own connection string, so a
multi-host string finds whichever host accepts writes now; once one does, the store opens a
fresh pool there and drops the old one, whose connections all lead to the lost server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg_pool import PoolTimeout

__all__ = ["Outage", "is_primary_lost"]

log = logging.getLogger("podium.store")

_LOST_STATES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping
        "57P02",  # crash_shutdown: another backend crashed, the server restarts
        "57P03",  # cannot_connect_now: starting up or shutting down
        "25006",  # read_only_sql_transaction: the server was demoted to a standby
    }
)


def is_primary_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the server is gone or no longer the primary (rather than that
    this unit's statement failed): a lost connection, a shutdown, a read-only server."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate
    if state is None:
        # No answer from the server at all: the connection broke or could not be made.
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return state.startswith("08") or state in _LOST_STATES


class Outage:
    """Whether the primary is known to be unreachable, and the probe that ends it.

    ``reconnect`` raises unless it reached a primary; when it returns, the outage is over.
    """

    def __init__(self, reconnect: Callable[[], None], *, interval_s: float = 0.2) -> None:
        self._reconnect = reconnect
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._since: float | None = None
        self._cause = ""
        self._thread: threading.Thread | None = None

    @property
    def down(self) -> bool:
        return self._since is not None

    def describe(self) -> str:
        """Why the store is unavailable, for the 503's message and the health check."""
        since = self._since
        if since is None:
            return "the database is reachable"
        return f"no primary reachable for {time.monotonic() - since:.1f} s ({self._cause})"

    def began(self, exc: BaseException) -> None:
        """Declare the outage ``exc`` shows (once; later failures join it) and start probing."""
        with self._lock:
            if self._since is not None or self._stop.is_set():
                return
            self._since = time.monotonic()
            self._cause = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            log.warning("lost the PostgreSQL primary (%s); answering 503 until one is back", exc)
            self._thread = threading.Thread(target=self._probe, name="podium-pg-probe", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _probe(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._reconnect()
            except Exception as exc:
                failures += 1
                if failures == 1 or failures % 50 == 0:
                    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    log.info("no PostgreSQL primary yet: %s", first_line)
                self._stop.wait(self.interval_s)
                continue
            with self._lock:
                since, self._since = self._since, None
            if since is not None:
                log.warning(
                    "reached a PostgreSQL primary again after %.1f s", time.monotonic() - since
                )
            return
