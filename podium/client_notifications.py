"""The notifications part of ``PodiumClient``: the delivery log, dead ones, replay."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

__all__ = ["NotificationsApi"]

_ROOT = "/api/notifications"


class NotificationsApi:
    """Mixed into ``PodiumClient``; every method is one request."""

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def list_notifications(
        self, state: str | None = None, run_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Notifications newest first: pending, sent and dead, or those of one ``state``."""
        params: dict[str, Any] = {"limit": limit}
        if state:
            params["state"] = state
        if run_id:
            params["runId"] = run_id
        found: list[dict[str, Any]] = self._json("GET", f"{_ROOT}/deliveries", params=params)
        return found

    def dead_notifications(self, limit: int = 100) -> list[dict[str, Any]]:
        """Notifications whose every attempt failed."""
        found: list[dict[str, Any]] = self._json("GET", f"{_ROOT}/dead", params={"limit": limit})
        return found

    def get_notification(self, notification_id: str) -> dict[str, Any]:
        """One notification with every attempt to send it."""
        found: dict[str, Any] = self._json("GET", f"{_ROOT}/{quote(notification_id, safe='')}")
        return found

    def replay_notification(self, notification_id: str) -> dict[str, Any]:
        """Send a notification again with a fresh count of attempts."""
        path = f"{_ROOT}/{quote(notification_id, safe='')}/replay"
        found: dict[str, Any] = self._json("POST", path)
        return found
