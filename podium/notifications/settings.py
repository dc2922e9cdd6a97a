"""How the server sends notifications: where its UI is reached, its SMTP relay, retries."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["NotifySettings"]


@dataclass(frozen=True, slots=True)
class NotifySettings:
    public_url: str | None = None
    """The address people reach the server's UI at, for links in messages
    (``PODIUM_PUBLIC_URL``; by default ``http://<host>:<port>``)."""
    smtp_host: str | None = None
    """The SMTP relay email channels are sent through (``PODIUM_SMTP_HOST``); without one an
    email notification fails, and is dead after its attempts."""
    smtp_port: int = 25
    smtp_from: str = "podium@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    max_attempts: int = 8
    """Attempts to send one notification before it is dead (``PODIUM_NOTIFY_MAX_ATTEMPTS``)."""
    retry_base_ms: int = 1000
    """The first back-off after a failed attempt; it doubles with each, with jitter."""
    timeout_s: float = 10.0
    """How long one attempt may take."""
    pump: bool = True
    """Whether this instance sends notifications (another instance may, on the same store)."""

    @classmethod
    def from_env(cls) -> NotifySettings:
        d = cls()
        env = os.environ.get
        return cls(
            public_url=env("PODIUM_PUBLIC_URL") or None,
            smtp_host=env("PODIUM_SMTP_HOST") or None,
            smtp_port=int(env("PODIUM_SMTP_PORT") or d.smtp_port),
            smtp_from=env("PODIUM_SMTP_FROM") or d.smtp_from,
            smtp_user=env("PODIUM_SMTP_USER") or None,
            smtp_password=env("PODIUM_SMTP_PASSWORD") or None,
            smtp_starttls=(env("PODIUM_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
            max_attempts=max(1, int(env("PODIUM_NOTIFY_MAX_ATTEMPTS") or d.max_attempts)),
            retry_base_ms=int(env("PODIUM_NOTIFY_RETRY_BASE_MS") or d.retry_base_ms),
            timeout_s=float(env("PODIUM_NOTIFY_TIMEOUT_S") or d.timeout_s),
            pump=(env("PODIUM_NOTIFY_PUMP") or "true").lower() not in ("0", "false", "no"),
        )
