"""Short-lived bearer tokens, as Conductor's SDKs expect from ``POST /api/token``.

HS256 JWTs signed with a secret kept in the store, so a token issued by one instance is
accepted by every other.
"""

from __future__ import annotations

from typing import Any

import jwt

from podium.errors import UnauthenticatedError

__all__ = ["TokenError", "issue_token", "read_token"]

_ALGORITHM = "HS256"


class TokenError(UnauthenticatedError):
    """A bearer token that is expired, forged or malformed: the request is unauthenticated."""

    def __init__(self, message: str) -> None:
        super().__init__(message, service="auth")


def issue_token(key_id: str, secret: str, now_s: int, ttl_s: int) -> str:
    claims = {"sub": key_id, "iat": now_s, "exp": now_s + ttl_s, "iss": "podium"}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, secret: str) -> str:
    """The key id a valid, unexpired token was issued to."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], issuer="podium", options={"require": ["exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("the token has expired; get a new one from POST /api/token") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"the token is not valid: {exc}") from exc
    return str(claims["sub"])


def looks_like_token(value: str) -> bool:
    return value.count(".") == 2 and ":" not in value
