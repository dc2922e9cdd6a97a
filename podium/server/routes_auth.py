"""``/api/token`` (Conductor/Orkes-style token auth) and ``/api/keys`` (API key admin)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator

from podium.auth.keys import ApiKey, Role, hash_secret, new_secret
from podium.auth.middleware import Authenticator
from podium.auth.rules import GRANTABLE
from podium.auth.tokens import issue_token
from podium.errors import ConflictError, NotFoundError, UnauthenticatedError
from podium.server.requests import read_json, read_model
from podium.server.schemas import inline_schema
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx

__all__ = ["router"]

router = APIRouter(tags=["auth"])
_KEY_ID = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")


class KeyNotFoundError(NotFoundError):
    code = "E_KEY_NOT_FOUND"


class TokenRequest(BaseModel):
    keyId: str = Field(min_length=1)
    keySecret: str = Field(min_length=1)


class NewKey(BaseModel):
    keyId: str | None = Field(default=None, pattern=_KEY_ID.pattern)
    roles: list[Role] = Field(min_length=1)
    taskTypes: list[str] = Field(default_factory=list)
    grants: list[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("grants")
    @classmethod
    def _grantable(cls, grants: list[str]) -> list[str]:
        for grant in grants:
            if grant not in GRANTABLE:
                raise ValueError(
                    f"{grant!r} cannot be granted; grantable: {', '.join(sorted(GRANTABLE))} "
                    "(a role's permissions come with the role)"
                )
        return grants


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": inline_schema(model)}}, "required": True}


def _authenticator(request: Request) -> Authenticator | None:
    found: Authenticator | None = request.app.state.authenticator
    return found


@router.post("/api/token", openapi_extra={"requestBody": _body(TokenRequest)})
async def token(request: Request) -> dict[str, str]:
    """Exchange a key for a token (send it back as ``X-Authorization``). 404 with auth off,
    as Conductor OSS answers, which Conductor's SDKs take to mean "no auth"."""
    authenticator = _authenticator(request)
    if authenticator is None:
        raise NotFoundError("authentication is off on this server", code="E_HTTP")
    body = read_model(TokenRequest, await read_json(request, empty={}))
    key = await authenticator.check_secret(body.keyId, body.keySecret)
    if key is None:
        raise UnauthenticatedError("unknown key, wrong secret, or revoked key", field="keyId")
    settings = request.app.state.settings
    now_s = orchestrator_of(request).clock() // 1000
    signing = await authenticator.signing_secret()
    return {"token": issue_token(key.key_id, signing, now_s, settings.token_ttl_s)}


@router.post("/api/keys", openapi_extra={"requestBody": _body(NewKey)})
async def create_key(request: Request) -> dict[str, Any]:
    """A new key; its secret is in this answer only (the store keeps a hash)."""
    spec = read_model(NewKey, await read_json(request, empty={}))
    key = ApiKey(
        key_id=spec.keyId or f"key-{secrets.token_hex(6)}",
        roles=frozenset(spec.roles),
        task_types=frozenset(spec.taskTypes),
        grants=frozenset(spec.grants),
        description=spec.description,
    )
    secret = new_secret()
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> None:
        if tx.get_api_key(key.key_id) is not None:
            raise ConflictError(f"key {key.key_id} already exists", field="keyId")
        tx.put_api_key(key.key_id, hash_secret(secret), key.to_body(), now)

    await orchestrator.store.write(unit)
    return {"keyId": key.key_id, "keySecret": secret, **key.to_body()}


@router.get("/api/keys")
async def list_keys(request: Request) -> list[dict[str, Any]]:
    """Every key, without secrets."""
    rows = await orchestrator_of(request).store.read(lambda tx: tx.list_api_keys())
    return [
        {"keyId": key_id, **body, "createdAt": created, "revokedAt": disabled}
        for key_id, body, created, disabled in rows
    ]


@router.delete("/api/keys/{key_id}")
async def revoke_key(key_id: str, request: Request) -> dict[str, str]:
    """Revoke a key: it, and tokens issued to it, stop working within seconds everywhere."""
    orchestrator = orchestrator_of(request)
    now = orchestrator.clock()
    if not await orchestrator.store.write(lambda tx: tx.disable_api_key(key_id, now)):
        raise KeyNotFoundError(f"no active key {key_id}", field="keyId")
    return {"revoked": key_id}
