"""What a store keeps of notifications: the outbox of messages to channels and the log of
every attempt to send one.

A row is written in the transaction of the decision that causes it, keyed by a dedupe key
(the run or subject, the event and the channel), so a decision taken twice (a unit run again,
a replayed event) writes one. The pump claims due rows, sends them after the commit and
records each attempt; a row fails over to DEAD after its last attempt and may be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["NotificationRow", "NotificationState", "NotificationStoreTx"]


class NotificationState:
    PENDING = "PENDING"
    """Waiting to be sent (again): due at ``next_at``."""
    SENT = "SENT"
    """The channel accepted it."""
    DEAD = "DEAD"
    """Every attempt failed; kept for an operator to read and replay."""


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: str
    dedupe_key: str
    channel: str
    """The channel's id (``webhook:1a2b3c...``): what rate limits and metrics are kept by."""
    kind: str
    event: str
    run_id: str | None
    service: str | None
    target: dict[str, Any]
    """The channel as declared, secret included: never shown by the API."""
    body: dict[str, Any]
    """The message: what a webhook receives as JSON, and what Slack and email render."""
    state: str
    attempts: int
    next_at: int
    last_error: str | None
    created_at: int
    updated_at: int

    def to_view(self) -> dict[str, Any]:
        """The row as the API shows it (no target: its URL may carry a token, and a secret)."""
        return {
            "id": self.id,
            "channel": self.channel,
            "kind": self.kind,
            "event": self.event,
            "runId": self.run_id,
            "service": self.service,
            "state": self.state,
            "attempts": self.attempts,
            "nextAttemptAt": self.next_at if self.state == NotificationState.PENDING else None,
            "lastError": self.last_error,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "message": self.body,
        }


class NotificationStoreTx(Protocol):
    def add_notification(self, row: NotificationRow) -> bool:
        """Insert unless a row has its dedupe key; whether it was inserted."""
        ...

    def due_notifications(self, now: int, limit: int) -> list[NotificationRow]:
        """Pending rows due by ``now``, oldest first, each locked (rows another instance
        holds are skipped)."""
        ...

    def next_notification_due(self) -> int | None: ...

    def get_notification(self, notification_id: str) -> NotificationRow | None: ...

    def set_notification(
        self,
        notification_id: str,
        *,
        state: str,
        attempts: int,
        next_at: int,
        last_error: str | None,
        now: int,
    ) -> None: ...

    def add_notification_attempt(
        self, notification_id: str, at: int, ok: bool, detail: str
    ) -> None: ...

    def notification_attempts(self, notification_id: str) -> list[dict[str, Any]]: ...

    def list_notifications(
        self, state: str | None, run_id: str | None, limit: int
    ) -> list[NotificationRow]:
        """Newest first."""
        ...

    def remove_old_notifications(self, before_ms: int, limit: int) -> int:
        """Delete up to ``limit`` sent or dead notifications made before ``before_ms``, with
        their attempts; how many went."""
        ...
