"""Notification channels: where a service's (or a workflow's) owners hear that something broke.

A channel is declared in the service registry (``notifications`` on a service) or on a
workflow definition (Podium's own ``notifications`` field). Each names its kind and target,
the events it wants (all of them when ``events`` is left out) and, for webhooks, the secret
its messages are signed with. The secret is stored, never shown back (``redacted``).
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["SECRET_REF", "Channel", "ChannelKind", "NotifyEvent", "redacted_channels"]


SECRET_REF = re.compile(r"^\$\{workflow\.secrets\.([A-Za-z0-9_.\-]+)\}$")
"""A secret named, not given: ``${workflow.secrets.NAME}``, read by the server when it sends."""


class NotifyEvent(StrEnum):
    """What a channel may be told about."""

    RUN_FAILED = "run.failed"
    RUN_TIMED_OUT = "run.timed_out"
    RUN_COMPENSATED = "run.compensated"
    RUN_COMPENSATION_FAILED = "run.compensation_failed"
    TASK_DEAD_LETTERED = "task.dead_lettered"
    BREAKER_OPENED = "breaker.opened"
    BREAKER_CLOSED = "breaker.closed"
    SLO_BURNING = "slo.burning"
    SLO_RESOLVED = "slo.resolved"
    SCHEDULE_TICK_MISSED = "schedule.tick_missed"


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    """A JSON body POSTed to ``url``, signed in ``X-Podium-Signature`` with ``secret``."""
    SLACK = "slack"
    """A Slack-compatible incoming webhook: ``{"text": ...}`` POSTed to ``url``."""
    EMAIL = "email"
    """A plain-text email to ``to`` over the server's SMTP relay (``PODIUM_SMTP_*``)."""


class Channel(BaseModel):
    """One place to send notifications to."""

    model_config = ConfigDict(extra="forbid")

    kind: ChannelKind
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    to: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    secret: str | None = Field(default=None, min_length=1, max_length=500)
    events: list[NotifyEvent] | None = None
    """The events this channel wants; None means every one."""
    ratePerMinute: float = Field(default=60, gt=0, le=60_000)
    """At most this many messages a minute reach the channel; more wait their turn."""

    @model_validator(mode="after")
    def _target_matches_kind(self) -> Channel:
        if self.kind == ChannelKind.EMAIL:
            if not self.to:
                raise ValueError("an email channel needs `to`")
        elif not self.url:
            raise ValueError(f"a {self.kind} channel needs `url`")
        return self

    @property
    def target(self) -> str:
        return str(self.to if self.kind == ChannelKind.EMAIL else self.url)

    @property
    def channel_id(self) -> str:
        """A short stable name of the channel (kind and a digest of its target), for logs,
        metrics and dedupe keys, that does not spell out a webhook's URL (it may carry a
        token, as Slack's do)."""
        digest = hashlib.sha256(self.target.encode()).hexdigest()[:12]
        return f"{self.kind}:{digest}"

    def wants(self, event: NotifyEvent) -> bool:
        return self.events is None or event in self.events


def redacted_channels(channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Channels as shown back: a secret is replaced by whether there is one, and a Slack
    webhook's URL (its path is the credential) by its host."""
    shown = []
    for channel in channels:
        view = {key: value for key, value in channel.items() if key != "secret"}
        if channel.get("secret"):
            view["secretSet"] = True
        if channel.get("kind") == ChannelKind.SLACK and isinstance(channel.get("url"), str):
            parts = urlsplit(channel["url"])
            view["url"] = f"{parts.scheme}://{parts.netloc}/…"
        shown.append(view)
    return shown
