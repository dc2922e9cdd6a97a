"""Sending one notification: a signed JSON POST, a Slack message, or an email over SMTP.

Each returns what the delivery log records; a refusal or a network error raises
``DeliveryError``, which the pump retries.
"""

from __future__ import annotations

import asyncio
import smtplib
import time
from email.message import EmailMessage
from typing import Any

import httpx
import orjson

from podium.dsl.notifications import ChannelKind
from podium.errors import PodiumError
from podium.notifications.messages import render_text
from podium.notifications.settings import NotifySettings
from podium.notifications.signing import SIGNATURE_HEADER, sign

__all__ = ["DeliveryError", "Sender"]


class DeliveryError(PodiumError):
    """The channel did not take the message (its answer or the error, in the message); the
    notification is retried, then dead. It never reaches a caller."""

    code = "E_DELIVERY"
    retryable = True

    def __init__(self, message: str) -> None:
        super().__init__(message, service="notifications")


class Sender:
    """Delivers messages to channels over one shared HTTP client; the caller hands each send
    the channel's secret already resolved (``notify_pump`` reads server secrets)."""

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client

    async def send(
        self, notification_id: str, target: dict[str, Any], body: dict[str, Any], secret: str | None
    ) -> str:
        kind = ChannelKind(target["kind"])
        if kind == ChannelKind.EMAIL:
            await asyncio.to_thread(self._email, target["to"], body)
            return f"accepted by {self.settings.smtp_host}:{self.settings.smtp_port}"
        if kind == ChannelKind.SLACK:
            payload = orjson.dumps({"text": render_text(body)})
        else:
            payload = orjson.dumps(body)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "podium-notifications",
            "X-Podium-Event": str(body.get("event", "")),
            "X-Podium-Delivery": notification_id,
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, payload, int(time.time()))
        try:
            response = await self.client.post(
                target["url"], content=payload, headers=headers, timeout=self.settings.timeout_s
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")
        return f"HTTP {response.status_code}"

    def _email(self, to: str, body: dict[str, Any]) -> None:
        s = self.settings
        if not s.smtp_host:
            raise DeliveryError("no SMTP relay is configured (PODIUM_SMTP_HOST)")
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = to
        message["Subject"] = f"[podium] {body.get('summary', body.get('event'))}"[:200]
        message["X-Podium-Event"] = str(body.get("event", ""))
        message["X-Podium-Delivery"] = str(body.get("id", ""))
        message.set_content(render_text(body))
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user and s.smtp_password:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
