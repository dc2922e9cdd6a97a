"""API keys and the roles they carry.

A key is an id and a random secret. Only a SHA-256 hash of the secret is stored: the secret
is 256 random bits, so a fast hash is as safe as a slow one (slow hashes protect guessable
passwords) and checking a key on every request costs microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["ApiKey", "Role", "hash_secret", "new_secret", "secret_matches"]


class Role(StrEnum):
    ADMIN = "admin"
    """Definitions, services, keys, and everything an operator may do."""
    OPERATOR = "operator"
    """Start runs and act on them (terminate, pause, resume, retry, rerun, signal); read."""
    WORKER = "worker"
    """Poll for tasks and report their results (optionally only named task types)."""
    READER = "reader"
    """Read runs, definitions and services."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    roles: frozenset[Role]
    task_types: frozenset[str] = field(default_factory=frozenset)
    """For worker keys: the only task types it may poll, finish, signal or log to (empty: any)."""
    grants: frozenset[str] = field(default_factory=frozenset)
    """Permissions granted beyond the roles' (only those ``rules.GRANTABLE`` names)."""
    description: str = ""
    disabled: bool = False

    def to_body(self) -> dict[str, Any]:
        return {
            "roles": sorted(self.roles),
            "taskTypes": sorted(self.task_types),
            "grants": sorted(self.grants),
            "description": self.description,
        }

    @classmethod
    def from_body(cls, key_id: str, body: dict[str, Any], disabled: bool) -> ApiKey:
        return cls(
            key_id=key_id,
            roles=frozenset(Role(role) for role in body.get("roles", ())),
            task_types=frozenset(body.get("taskTypes", ())),
            grants=frozenset(body.get("grants", ())),
            description=body.get("description", ""),
            disabled=disabled,
        )


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
