"""Secrets HTTP tasks refer to as ``${workflow.secrets.NAME}``, read when the call is made.

A run's history keeps the reference, never the value: the engine leaves the text as it is and
only the HTTP executor swaps values in, for the request it is about to send. It swaps them in
only where the engine noted that the definition's own template put a reference
(``engine/secret_refs``): the same text arriving in data (a run's input, a worker's output) is
sent as the text it is. Values come from ``PODIUM_SECRET_<NAME>`` variables or from the JSON
file ``PODIUM_SECRETS_FILE`` names (the variable wins), both read at call time so a rotated
secret is used at once.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from podium.dsl.http_request import REQUEST_KEY
from podium.engine.secret_refs import SECRET_FIELDS
from podium.errors import PodiumError

__all__ = ["FilledRequest", "MissingSecretError", "SecretResolver"]

log = logging.getLogger("podium.http_tasks")


class MissingSecretError(PodiumError):
    """A task refers to a secret nobody configured; the message names it, never a value.

    It fails the HTTP task with its message; it never reaches a caller."""

    code = "E_SECRET_MISSING"

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

    def fill(
        self,
        spec: Mapping[str, Any],
        note: Mapping[str, Any] | None,
        prefix: tuple[str, ...] = (REQUEST_KEY,),
    ) -> FilledRequest:
        """``spec``'s uri, headers and body with a secret at every place ``note`` names.

        ``prefix`` is where ``spec`` sits in the task's input (``dsl/http_request``): a spot
        noted for the other form is not this request's and is passed over.

        Raises:
            MissingSecretError: a secret the template refers to is not configured.
        """
        fields = {name: spec.get(name) for name in SECRET_FIELDS}
        names: list[str] = []
        secret_fields: set[str] = set()
        secret_headers: set[str] = set()
        copied: set[str] = set()
        for spot in (note or {}).get("at") or []:
            noted = list(spot.get("path") or [])
            if tuple(noted[: len(prefix)]) != prefix:
                continue
            path = noted[len(prefix) :]
            if not path or path[0] not in fields:
                continue
            field = str(path[0])
            if field not in copied:  # the task's input is never changed
                fields[field] = copy.deepcopy(fields[field])
                copied.add(field)
            filled = self._fill_at(fields, path, spot.get("spans") or [], names)
            if filled:
                secret_fields.add(field)
                if field == "headers" and len(path) > 1:
                    secret_headers.add(str(path[1]).lower())
        return FilledRequest(
            uri=str(fields["uri"]),
            headers=fields["headers"],
            body=fields["body"],
            names=tuple(dict.fromkeys(names)),
            secret_headers=frozenset(secret_headers),
            body_has_secret="body" in secret_fields,
        )

    def _fill_at(
        self, fields: dict[str, Any], path: list[Any], spans: list[Any], names: list[str]
    ) -> bool:
        parent: Any = fields
        for segment in path[:-1]:
            parent = _child(parent, segment)
        text = _child(parent, path[-1])
        if not isinstance(text, str):
            return False
        # Right to left, so that the offsets still to use stay where they were.
        for start, end, name in sorted(spans, reverse=True):
            if text[start:end] != "${workflow.secrets." + str(name) + "}":
                # The input is not what the note was made from: send it as it stands.
                log.warning("a secret note does not match its HTTP task's input; not used")
                return False
        for start, end, name in sorted(spans, reverse=True):
            text = text[:start] + self.value(str(name)) + text[end:]
            names.append(str(name))
        parent[path[-1]] = text
        return True


def _child(value: Any, segment: Any) -> Any:
    if isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value):
        return value[segment]
    if isinstance(value, dict) and isinstance(segment, str):
        return value.get(segment)
    return None


@dataclass(frozen=True, slots=True)
class FilledRequest:
    """The parts of an HTTP task's request that may hold secrets, with them put in."""

    uri: str
    headers: Any
    body: Any
    names: tuple[str, ...]
    """The secrets put in, by name: a request with any must go only to the origin noted."""
    secret_headers: frozenset[str]
    """Headers (lower case) holding a secret: dropped when a redirect leaves the origin."""
    body_has_secret: bool
