"""The gate in front of every route: who is calling, and may they.

Credentials, any of: ``X-Authorization: <token>`` (what Conductor's SDKs send after
``POST /api/token``), ``Authorization: Bearer <token>``, or ``Authorization: Bearer
<keyId>:<keySecret>`` (scripts and the CLI). Keys are looked up in the store and kept for a
few seconds, so a revoked key stops working within that time on every instance.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.auth.keys import ApiKey, Role, secret_matches
from podium.auth.rules import Permission, grants, required_permission
from podium.auth.scope import CALLER_KEY
from podium.auth.tokens import TokenError, looks_like_token, read_token
from podium.errors import PodiumError, StoreError
from podium.store.base import Store

__all__ = ["AuthMiddleware", "Authenticator", "Refusal"]

_KEY_CACHE_S = 5.0
_POLL_PREFIXES = ("/api/tasks/poll/batch/", "/api/tasks/poll/")


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    code: str
    message: str
    retry_after_s: float | None = None


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class Authenticator:
    """Checks credentials against the store; shared by the middleware and ``/api/token``."""

    def __init__(
        self, store: Store, *, rate_per_key: float = 0.0, key_cache_s: float = _KEY_CACHE_S
    ) -> None:
        self.store = store
        self.rate_per_key = rate_per_key
        self.key_cache_s = key_cache_s
        self._keys: dict[str, tuple[float, tuple[str, ApiKey] | None]] = {}
        self._secret: str | None = None
        self._buckets: dict[str, _Bucket] = {}

    async def signing_secret(self) -> str:
        if self._secret is None:
            candidate = secrets.token_urlsafe(48)
            self._secret = await self.store.write(lambda tx: tx.auth_secret(candidate))
        return self._secret

    async def key(self, key_id: str) -> tuple[str, ApiKey] | None:
        """``(secret_hash, key)`` of an enabled key, cached for a few seconds."""
        now = time.monotonic()
        cached = self._keys.get(key_id)
        if cached is not None and now - cached[0] < self.key_cache_s:
            return cached[1]
        found = await self.store.read(lambda tx: tx.get_api_key(key_id))
        entry = None
        if found is not None and found[2] is None:
            entry = (found[0], ApiKey.from_body(key_id, found[1], disabled=False))
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[key_id] = (now, entry)
        return entry

    async def check_secret(self, key_id: str, secret: str) -> ApiKey | None:
        found = await self.key(key_id)
        if found is None or not secret_matches(secret, found[0]):
            return None
        return found[1]

    async def identify(self, headers: dict[str, str]) -> ApiKey | Refusal:
        raw = headers.get("x-authorization") or ""
        authorization = headers.get("authorization", "")
        if not raw and authorization.lower().startswith("bearer "):
            raw = authorization[7:].strip()
        if not raw:
            return Refusal(
                401,
                "E_UNAUTHENTICATED",
                "this server requires an API key: send 'Authorization: Bearer <keyId>:<secret>' "
                "or a token from POST /api/token as 'X-Authorization'",
            )
        if looks_like_token(raw):
            try:
                key_id = read_token(raw, await self.signing_secret())
            except TokenError as exc:
                return Refusal(401, "E_UNAUTHENTICATED", exc.message)
            found = await self.key(key_id)
            if found is None:
                return Refusal(401, "E_UNAUTHENTICATED", f"key {key_id} is revoked or unknown")
            return found[1]
        key_id, _, secret = raw.partition(":")
        api_key = await self.check_secret(key_id, secret)
        if api_key is None:
            return Refusal(401, "E_UNAUTHENTICATED", "unknown key, wrong secret, or revoked key")
        return api_key

    def allow_rate(self, key_id: str) -> float | None:
        """None if the key may make a request now, else seconds until it may."""
        if self.rate_per_key <= 0:
            return None
        now = time.monotonic()
        burst = max(1.0, 2 * self.rate_per_key)
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * self.rate_per_key)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self.rate_per_key

    async def authorize(
        self, method: str, path: str, headers: dict[str, str]
    ) -> Refusal | ApiKey | None:
        """Why the call is refused, or the key it may go ahead with (None: a public route)."""
        permission = required_permission(method, path)
        if permission == Permission.PUBLIC:
            return None
        who = await self.identify(headers)
        if isinstance(who, Refusal):
            return who
        if not grants(who.roles, permission):
            roles = ", ".join(sorted(who.roles)) or "none"
            return Refusal(
                403,
                "E_FORBIDDEN",
                f"key {who.key_id} (roles: {roles}) may not {method} {path}: "
                f"it needs the {permission} permission",
            )
        if permission == Permission.WORK and who.task_types and path.startswith(_POLL_PREFIXES):
            task_type = path.rsplit("/", 1)[-1]
            if task_type not in who.task_types and Role.ADMIN not in who.roles:
                return Refusal(
                    403,
                    "E_FORBIDDEN",
                    f"key {who.key_id} may poll only {', '.join(sorted(who.task_types))}, "
                    f"not {task_type}",
                )
        wait = self.allow_rate(who.key_id)
        if wait is not None:
            return Refusal(
                429,
                "E_RATE_LIMITED",
                f"key {who.key_id} is over its limit of {self.rate_per_key:g} requests/s",
                retry_after_s=wait,
            )
        return who


class AuthMiddleware:
    """ASGI middleware: refuses what the caller may not do before anything else runs."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            refusal = await self.authenticator.authorize(scope["method"], scope["path"], headers)
        except PodiumError as exc:
            # The gate stands outside the app's error handlers: a store failing while a key is
            # looked up would otherwise leave as a bare 500, not the 503 that says try again.
            later = []
            if isinstance(exc, StoreError):
                later = [(b"retry-after", str(exc.retry_after_s).encode())]
            await _answer(send, exc.status_code, exc.to_dict(), later)
            return
        if not isinstance(refusal, Refusal):
            if refusal is not None:
                # Routes that record who did what (leases, for fencing) read it from here.
                scope[CALLER_KEY] = refusal
            await self.app(scope, receive, send)
            return
        body: dict[str, Any] = {
            "status": refusal.status,
            "code": refusal.code,
            "service": "server",
            "message": refusal.message,
            "retryable": refusal.status == 429,
        }
        extra: list[tuple[bytes, bytes]] = []
        if refusal.retry_after_s is not None:
            extra.append((b"retry-after", str(max(1, round(refusal.retry_after_s))).encode()))
        if refusal.status == 401:
            extra.append((b"www-authenticate", b'Bearer realm="podium"'))
        await _answer(send, refusal.status, body, extra)


async def _answer(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(extra or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
