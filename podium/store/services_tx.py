"""Services' and access's domain operations, shared by both backends: registered services,
circuit breakers and their history, the result cache, API keys and the auth secret.

Written once in the SQL both backends accept (see ``dialect``); a breaker read for update
locks its row on PostgreSQL, where instances may trip one breaker at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from podium.store.dialect import TxDialect

__all__ = ["ServicesTxMixin"]


class ServicesTxMixin(TxDialect):
    __slots__ = ()

    if TYPE_CHECKING:
        # From DefinitionsTxMixin: a service is part of the definitions caches watch.
        def _bump(self) -> None: ...

    # ---- services -------------------------------------------------------------------------

    def put_service(self, name: str, body: dict[str, Any], now: int) -> None:
        self._w(
            "INSERT INTO services (name, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (name, orjson.dumps(body), now),
        )
        self._bump()

    def get_service(self, name: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM services WHERE name = ?", (name,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_services(self) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM services ORDER BY name").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_service(self, name: str) -> bool:
        self._bump()
        return bool(self._x("DELETE FROM services WHERE name = ?", (name,)).rowcount > 0)

    # ---- breakers -------------------------------------------------------------------------

    def get_breaker(self, service: str, *, for_update: bool = False) -> dict[str, Any] | None:
        lock = self._for_update if for_update else ""
        row = self._x(f"SELECT body FROM breakers WHERE service = ?{lock}", (service,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def put_breaker(self, service: str, body: dict[str, Any], now: int) -> None:
        self._w(
            "INSERT INTO breakers (service, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (service) DO UPDATE SET body = excluded.body, "
            "updated_at = excluded.updated_at",
            (service, orjson.dumps(body), now),
        )

    def list_breakers(self) -> dict[str, dict[str, Any]]:
        rows = self._x("SELECT service, body FROM breakers ORDER BY service").fetchall()
        return {row[0]: orjson.loads(row[1]) for row in rows}

    def add_breaker_event(
        self, service: str, at: int, from_state: str, to_state: str, reason: str
    ) -> None:
        self._w(
            "INSERT INTO breaker_events (service, at, from_state, to_state, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (service, at, from_state, to_state, reason),
        )

    def breaker_events(self, service: str, limit: int) -> list[dict[str, Any]]:
        rows = self._x(
            "SELECT at, from_state, to_state, reason FROM breaker_events WHERE service = ? "
            "ORDER BY id DESC LIMIT ?",
            (service, limit),
        ).fetchall()
        return [{"at": r[0], "from": r[1], "to": r[2], "reason": r[3]} for r in rows]

    # ---- result cache ---------------------------------------------------------------------

    def get_cached_result(self, key: str, now: int) -> dict[str, Any] | None:
        row = self._x(
            "SELECT body FROM result_cache WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def put_cached_result(self, key: str, body: dict[str, Any], expires_at: int) -> None:
        self._w(
            "INSERT INTO result_cache (key, body, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at",
            (key, orjson.dumps(body), expires_at),
        )

    # ---- authentication -------------------------------------------------------------------

    def put_api_key(self, key_id: str, secret_hash: str, body: dict[str, Any], now: int) -> None:
        self._w(
            "INSERT INTO api_keys (key_id, secret_hash, body, created_at) VALUES (?, ?, ?, ?)",
            (key_id, secret_hash, orjson.dumps(body), now),
        )

    def get_api_key(self, key_id: str) -> tuple[str, dict[str, Any], int | None] | None:
        row = self._x(
            "SELECT secret_hash, body, disabled_at FROM api_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
        return (row[0], orjson.loads(row[1]), row[2]) if row else None

    def list_api_keys(self) -> list[tuple[str, dict[str, Any], int, int | None]]:
        rows = self._x(
            "SELECT key_id, body, created_at, disabled_at FROM api_keys ORDER BY created_at, key_id"
        ).fetchall()
        return [(row[0], orjson.loads(row[1]), row[2], row[3]) for row in rows]

    def disable_api_key(self, key_id: str, now: int) -> bool:
        cursor = self._x(
            "UPDATE api_keys SET disabled_at = ? WHERE key_id = ? AND disabled_at IS NULL",
            (now, key_id),
        )
        return bool(cursor.rowcount > 0)

    def auth_secret(self, candidate: str) -> str:
        # The first instance's candidate wins; every later one reads the stored secret.
        self._w(
            "INSERT INTO auth_secret (id, secret) VALUES (1, ?) ON CONFLICT DO NOTHING",
            (candidate,),
        )
        row = self._x("SELECT secret FROM auth_secret WHERE id = 1").fetchone()
        assert row is not None
        return str(row[0])
