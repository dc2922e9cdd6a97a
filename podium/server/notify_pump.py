"""The notification pump: sends what the outbox holds, after the commits that wrote it.

Each pass is a unit of work that claims due rows (``SKIP LOCKED`` on PostgreSQL) and pushes
their next attempt a lease ahead, so another instance leaves them alone while this one sends.
Each send's outcome is recorded in a unit of its own: sent; failed, to be tried again after an
exponential back-off with jitter (``resilience.backoff``); or dead after the last attempt. A server that dies between
the send and the record sends again once the lease is up (at least once: receivers dedupe by
``X-Podium-Delivery``). A channel over its rate keeps its rows pending until it has room.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import httpx

from podium.dsl.notifications import SECRET_REF, Channel
from podium.errors import PodiumError
from podium.notifications.limiter import ChannelLimiter
from podium.notifications.messages import with_links
from podium.notifications.senders import DeliveryError, Sender
from podium.notifications.settings import NotifySettings
from podium.observability.metrics import Metrics
from podium.resilience.backoff import backoff_delay
from podium.server.background import BackgroundTask, nap
from podium.server.secrets import MissingSecretError, SecretResolver
from podium.store.base import Store, StoreTx
from podium.store.notifications_base import NotificationRow, NotificationState

__all__ = ["NotifyPump", "next_attempt_ms"]

log = logging.getLogger("podium.notifications")

_BATCH = 20
_MAX_BACKOFF_MS = 300_000


def next_attempt_ms(attempts: int, base_ms: int, rng: random.Random) -> int:
    """The back-off after ``attempts`` failures: ``base_ms`` doubled at each, capped at five
    minutes, with equal jitter (half of it, plus up to as much again), so that channels that
    failed together do not retry together."""
    cap = max(base_ms, _MAX_BACKOFF_MS)
    return int(backoff_delay(max(0, attempts - 1), base_ms, cap, jitter="equal", rng=rng))


class NotifyPump:
    """Started with the server (unless ``settings.pump`` is off); ``poke`` after a commit
    that queued notifications."""

    def __init__(
        self,
        store: Store,
        settings: NotifySettings,
        *,
        base_url: str,
        secrets: SecretResolver,
        metrics: Metrics,
        clock: Callable[[], int],
        max_sleep_s: float = 1.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.base_url = settings.public_url or base_url
        self.secrets = secrets
        self.metrics = metrics
        self.clock = clock
        self.max_sleep_s = max_sleep_s
        self.limiter = ChannelLimiter()
        self._rng = random.Random()
        self._poke = asyncio.Event()
        self._task = BackgroundTask("podium-notify-pump", self._loop)
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._client = httpx.AsyncClient(follow_redirects=False)
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def poke(self) -> None:
        self._poke.set()

    async def _loop(self) -> None:
        while True:
            self._poke.clear()
            try:
                sent = await self.pump_once()
                next_due = None if sent else await self.store.read(_next_due)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad pass is logged and left to the next one
                log.exception("notification pump pass failed")
                sent, next_due = 0, None
            if sent:
                continue
            await nap(self._poke, next_due, self.clock(), self.max_sleep_s)

    async def pump_once(self) -> int:
        """Claim and send what is due; how many rows were claimed."""
        now = self.clock()
        lease_ms = int(self.settings.timeout_s * 1000) * 3
        rows: list[NotificationRow] = await self.store.write(
            lambda tx: self._claim(tx, now, lease_ms)
        )
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    def _claim(self, tx: StoreTx, now: int, lease_ms: int) -> list[NotificationRow]:
        claimed = []
        for row in tx.due_notifications(now, _BATCH):
            rate = float(row.target.get("ratePerMinute", 60))
            wait = self.limiter.wait_ms(row.channel, rate, now)
            next_at = now + (wait or lease_ms)
            tx.set_notification(
                row.id,
                state=row.state,
                attempts=row.attempts,
                next_at=next_at,
                last_error=row.last_error,
                now=now,
            )
            if not wait:
                claimed.append(row)
        return claimed

    def _secret(self, target: dict[str, object]) -> str | None:
        secret = target.get("secret")
        if not isinstance(secret, str):
            return None
        ref = SECRET_REF.match(secret)
        return self.secrets.value(ref.group(1)) if ref else secret

    async def _deliver(self, row: NotificationRow) -> None:
        assert self._client is not None
        sender = Sender(self.settings, self._client)
        try:
            Channel.model_validate(row.target)
            detail = await sender.send(
                row.id, row.target, with_links(row.body, self.base_url), self._secret(row.target)
            )
            ok = True
        except (DeliveryError, MissingSecretError, ValueError) as exc:
            message = exc.message if isinstance(exc, PodiumError) else str(exc)
            detail, ok = message or type(exc).__name__, False
        now = self.clock()
        attempts = row.attempts + 1
        if ok:
            state, next_at, outcome = NotificationState.SENT, now, "sent"
        elif attempts >= self.settings.max_attempts:
            state, next_at, outcome = NotificationState.DEAD, now, "dead"
            log.warning("notification %s to %s is dead: %s", row.id, row.channel, detail)
        else:
            delay = next_attempt_ms(attempts, self.settings.retry_base_ms, self._rng)
            state, next_at, outcome = NotificationState.PENDING, now + delay, "failed"

        def record(tx: StoreTx) -> None:
            tx.set_notification(
                row.id,
                state=state,
                attempts=attempts,
                next_at=next_at,
                last_error=None if ok else detail,
                now=now,
            )
            tx.add_notification_attempt(row.id, now, ok, detail)

        await self.store.write(record)
        self.metrics.notifications.labels(row.channel, row.kind, outcome).inc()


def _next_due(tx: StoreTx) -> int | None:
    return tx.next_notification_due()
