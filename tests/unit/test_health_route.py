"""``/api/health`` answers 503 with ``Retry-After`` while the store cannot take units."""

from __future__ import annotations

import httpx

from podium.errors import StoreUnavailableError
from podium.server.app import create_app
from podium.settings import Settings
from podium.store.sqlite import SQLiteStore


class _Unreachable(SQLiteStore):
    """A store whose database is away (the readiness check is all this test asks of it)."""

    async def ping(self) -> None:
        raise StoreUnavailableError("no primary reachable for 3.0 s", service="store.postgres")


async def test_an_unreachable_store_is_not_ready_and_says_when_to_come_back(tmp_path):
    store = _Unreachable(tmp_path / "p.db")
    app = create_app(Settings(database=str(tmp_path / "p.db")), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://podium") as client:
        for path in ("/api/health", "/api/health/ready"):
            answer = await client.get(path)
            assert answer.status_code == 503
            assert answer.headers["Retry-After"] == "1"
            body = answer.json()
            assert body["ready"] is False and body["live"] is True
            assert body["code"] == "E_STORE_UNAVAILABLE" and body["retryable"] is True
            assert "no primary reachable" in body["message"]
        live = await client.get("/api/health/live")
        assert live.status_code == 200 and live.json()["live"] is True
