"""Where an HTTP step's definition puts ``${workflow.secrets.NAME}``: the only places the HTTP
executor will put a secret.

A step's input is resolved once, when the step is scheduled; after that, text written in the
definition and text that came from data (a run's input, a worker's output, a variable) look
the same, and a run input holding ``${workflow.secrets.TOKEN}`` would be sent the token. So
the engine notes, while it can still tell them apart, which characters of the task's input each
of the template's secret references became, and which origin the template's uri names in its
own text. Nothing else is ever swapped for a secret, and the note holds no value.

The note, kept on the task as ``secrets``::

    {"origin": "https://billing.internal:443",   # None when data chooses the uri's host
     "at": [{"path": ["http_request", "headers", "Authorization"],
             "spans": [[7, 37, "BILLING_TOKEN"]]}]}

A flat-form request (``dsl/http_request``) is noted without the ``http_request`` segment
(``["headers", "Authorization"]``); the executor applies only the spots of the form it sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from podium.dsl import expressions
from podium.dsl.http_request import request_of
from podium.engine.context import SECRET_PREFIX

__all__ = ["SECRET_FIELDS", "literal_origin", "secret_note"]

SECRET_FIELDS = ("uri", "headers", "body")
"""The parts of the request (``http_request``, or the input in the flat form) a secret may be
put in."""

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_SECRETS_ROOT = tuple(SECRET_PREFIX.rstrip(".").split("."))
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Stand-ins for references while the uri's origin is worked out from the template's text.
_DATA, _SECRET = "\x00d", "\x00s"


def _secret_name(path: str | None, text: str) -> str | None:
    """The secret a reference names, if it is one and resolved as a reference does."""
    # Split by the parser that resolved it, so ``workflow.secrets['KEY']`` is ``KEY`` too.
    segments = expressions.reference_segments(path) if path is not None else ()
    if len(segments) != 3 or segments[:2] != _SECRETS_ROOT:
        return None
    name = segments[2]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return None
    if text != "${" + SECRET_PREFIX + name + "}":
        return None
    return name


def _strings(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _at(value: Any, path: tuple[str | int, ...]) -> Any:
    for segment in path:
        if isinstance(segment, int):
            if not isinstance(value, list) or segment >= len(value):
                return None
            value = value[segment]
        elif isinstance(value, dict):
            value = value.get(segment)
        else:
            return None
    return value


def literal_origin(uri: Any, context: Mapping[str, Any]) -> str | None:
    """``scheme://host:port`` of ``uri`` when the template's own text names them, else None.

    Any reference to data up to the end of the authority (the first ``/``, ``?`` or ``#``)
    lets data choose the host (``https://api.example.com${workflow.input.p}`` reaches
    ``evil.test`` with ``p`` = ``@evil.test``), so then there is no literal origin. Secrets may
    stand for the user and password, not for the host.
    """
    if not isinstance(uri, str):
        return None
    shape = "".join(
        text if path is None else (_SECRET if _secret_name(path, text) else _DATA)
        for text, path in expressions.rendered_parts(uri, context)
    )
    scheme, sep, rest = shape.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        return None
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority = rest[:end]
    _, _, host_port = authority.rpartition("@")
    # Some parsers end the authority at a backslash too, others do not: leave nothing to them.
    unsure = "\x00" in host_port or "$" in host_port or "\\" in authority
    if _DATA in authority or unsure or not host_port:
        return None
    try:
        parts = urlsplit(f"{scheme}://{authority.replace(_SECRET, 's')}")
        port = parts.port or _DEFAULT_PORTS[scheme.lower()]
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return f"{scheme.lower()}://{parts.hostname}:{port}"


def secret_note(
    template: Mapping[str, Any], task_input: Mapping[str, Any], context: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Where ``template`` (a step's ``inputParameters``) put secret references in
    ``task_input`` (what it resolved to against ``context``); None if nowhere."""
    # The form the executor will read (from the resolved input) picks the template's part.
    _, prefix = request_of(task_input)
    request = template.get(prefix[0]) if prefix else template
    if not isinstance(request, Mapping):
        return None
    at: list[dict[str, Any]] = []
    for field in SECRET_FIELDS:
        for path, text in _strings(request.get(field), (*prefix, field)):
            if "secrets" not in text:  # ``workflow.secrets.K`` or ``workflow['secrets']...``
                continue
            pieces = expressions.rendered_parts(text, context)
            spans: list[list[Any]] = []
            offset = 0
            for rendered, ref in pieces:
                name = _secret_name(ref, rendered)
                if name is not None:
                    spans.append([offset, offset + len(rendered), name])
                offset += len(rendered)
            # A string that is one reference resolves to its value, not text: the check
            # keeps the note true of the input even then.
            if spans and _at(task_input, path) == "".join(rendered for rendered, _ in pieces):
                at.append({"path": list(path), "spans": spans})
    if not at:
        return None
    return {"origin": literal_origin(request.get("uri"), context), "at": at}
