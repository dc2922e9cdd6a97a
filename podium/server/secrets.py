"""Secrets HTTP tasks refer to as ``${workflow.secrets.NAME}``, read when the call is made.

A run's history keeps the reference, never the value: the engine leaves the text as it is and
only the HTTP executor swaps values in, for the request it is about to send. Values come from
``PODIUM_SECRET_<NAME>`` variables or from the JSON file ``PODIUM_SECRETS_FILE`` names (the
variable wins), both read at call time so a rotated secret is used at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

__all__ = ["MissingSecretError", "SecretResolver"]

_REFERENCE = re.compile(r"\$\{workflow\.secrets\.([A-Za-z0-9_.-]+)\}")


class MissingSecretError(LookupError):
    """A task refers to a secret nobody configured; the message names it, never a value."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"secret '{name}' is not configured: set PODIUM_SECRET_{_env_name(name)} "
            "or add it to the file PODIUM_SECRETS_FILE names"
        )


def _env_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class SecretResolver:
    def __init__(self, secrets_file: str | None = None, env: Mapping[str, str] | None = None):
        self.secrets_file = secrets_file
        self._env = env if env is not None else os.environ

    def _from_file(self) -> dict[str, Any]:
        if not self.secrets_file:
            return {}
        try:
            loaded = orjson.loads(Path(self.secrets_file).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}  # reported as the secret missing, which names what to fix
        return loaded if isinstance(loaded, dict) else {}

    def value(self, name: str) -> str:
        found = self._env.get(f"PODIUM_SECRET_{_env_name(name)}")
        if found is None:
            from_file = self._from_file().get(name)
            found = str(from_file) if from_file is not None else None
        if found is None:
            raise MissingSecretError(name)
        return found

    def resolve(self, value: Any) -> Any:
        """``value`` with every secret reference in its strings replaced by the secret."""
        if isinstance(value, str):
            if "${workflow.secrets." not in value:
                return value
            return _REFERENCE.sub(lambda m: self.value(m.group(1)), value)
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value
