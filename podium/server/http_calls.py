"""One HTTP task's call: the request its input describes, sent where the target policy allows.

Secrets go in only where the definition's template put them (``server/secrets.py``), and only
to the origin that template names. Redirects are followed here, not by aiohttp, so that every
hop meets the target policy and a secret never follows a redirect to another origin. A
refused target and a failed connection give the run the same reason, so that HTTP tasks
cannot be used to map which ports are open; the server's log says which it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from yarl import URL

from podium.dsl.http_request import REQUEST_KEY
from podium.engine.state import TaskStatus
from podium.errors import PodiumError
from podium.server.http_targets import TargetPolicy, TargetRefusedError
from podium.server.secrets import FilledRequest, MissingSecretError, SecretResolver

__all__ = ["MAX_REDIRECTS", "Outcome", "call_http"]

log = logging.getLogger("podium.http_tasks")

MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

Outcome = tuple[TaskStatus, dict[str, Any], str | None]
"""(status, output, reason) of an HTTP task's attempt."""


class _Unreachable(PodiumError):
    """The target was refused or could not be connected to; ``cause`` is for the log only.

    It fails the HTTP task; it never reaches a caller."""

    code = "E_UNREACHABLE"

    def __init__(self, url: URL, cause: str) -> None:
        super().__init__(cause, service="server.http_tasks")
        self.url = url
        self.cause = cause


@dataclass(slots=True)
class _Request:
    method: str
    url: URL
    headers: dict[str, str]
    content: bytes | None


def _origin(url: URL) -> str:
    return f"{url.scheme}://{url.raw_host}:{url.port}"


def _shown_target(url: URL) -> str:
    host = f"[{url.raw_host}]" if ":" in str(url.raw_host) else str(url.raw_host)
    return f"{host}:{url.port}" if url.explicit_port else host


def _looks_like_ip(host: str) -> bool:
    # aiohttp's own test: a host it takes for an address is never given to the resolver.
    return ":" in host or host.replace(".", "").isdigit()


def _build(spec: dict[str, Any], filled: FilledRequest, ids: dict[str, str]) -> _Request:
    method = str(spec.get("method") or "GET").upper()
    raw_headers = filled.headers if isinstance(filled.headers, dict) else {}
    headers = {str(k): str(v) for k, v in raw_headers.items()}
    for name, value in ids.items():
        if name.lower() not in {key.lower() for key in headers}:
            headers[name] = value
    if spec.get("accept"):
        headers.setdefault("Accept", str(spec["accept"]))
    content: bytes | None = None
    body = filled.body
    if body is not None and method not in ("GET", "HEAD"):
        if isinstance(body, str | bytes):
            content = body.encode() if isinstance(body, str) else body
        else:
            content = orjson.dumps(body)
            headers.setdefault("Content-Type", str(spec.get("contentType") or "application/json"))
    return _Request(method, URL(filled.uri), headers, content)


async def call_http(
    session: aiohttp.ClientSession,
    spec: Any,
    ids: dict[str, str] | None = None,
    secrets: SecretResolver | None = None,
    *,
    note: dict[str, Any] | None = None,
    policy: TargetPolicy | None = None,
    prefix: tuple[str, ...] = (REQUEST_KEY,),
) -> Outcome:
    """Make the call an HTTP task describes; the outcome as (status, output, reason).

    ``ids`` (trace context, correlation and request ids) are sent as headers unless the task
    sets those headers itself. ``note`` says where the definition put secret references (the
    task's ``secrets``); reasons quote the URI as written, unresolved. ``policy`` is checked
    here for addresses written in the uri; the session's resolver checks names. ``prefix``
    is where ``spec`` sits in the task's input (``dsl/http_request.request_of``)."""
    if not isinstance(spec, dict) or not spec.get("uri"):
        where = ".".join((*prefix, "uri"))
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, f"{where} is missing"
    method = str(spec.get("method") or "GET").upper()
    shown = f"HTTP {method} {spec['uri']}"
    try:
        filled = (secrets or SecretResolver()).fill(spec, note, prefix)
        request = _build(spec, filled, ids or {})
    except MissingSecretError as exc:
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, f"{shown}: {exc.message}"
    except ValueError:
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, f"{shown}: the uri is not a URL"
    if filled.names and (note or {}).get("origin") != _origin(request.url):
        # The host came from data (or is not the one the definition names): no secret for it.
        return (
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            {},
            f"{shown}: secret '{filled.names[0]}' is not sent to {request.url.raw_host}: "
            "the definition's uri must name the host the secret is for",
        )
    try:
        return await _follow(session, request, spec, filled, shown, note, policy)
    except _Unreachable as exc:
        log.warning("%s: not reached: %s", shown, exc.cause)
        reason = f"{shown}: could not reach {_shown_target(exc.url)}: refused or unreachable"
        return TaskStatus.FAILED, {}, reason
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        # aiohttp's message may quote the URI as sent: name the exception type only then.
        detail = "(details withheld: the request holds a secret)" if filled.names else str(exc)
        return TaskStatus.FAILED, {}, f"{shown} failed: {type(exc).__name__}: {detail}"


async def _follow(
    session: aiohttp.ClientSession,
    request: _Request,
    spec: dict[str, Any],
    filled: FilledRequest,
    shown: str,
    note: dict[str, Any] | None,
    policy: TargetPolicy | None,
) -> Outcome:
    timeout = aiohttp.ClientTimeout(
        sock_connect=float(spec.get("connectionTimeOut") or 10_000) / 1000,
        sock_read=float(spec.get("readTimeOut") or 30_000) / 1000,
    )
    origin = (note or {}).get("origin")
    for _ in range(MAX_REDIRECTS + 1):
        url = request.url
        if url.scheme not in ("http", "https") or not url.raw_host:
            return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, f"{shown}: {url} is not an HTTP URL"
        host, port = url.raw_host, url.port or 0
        if policy is not None and _looks_like_ip(host):
            refused = policy.refusal(host, port, host)
            if refused is not None:
                raise _Unreachable(url, refused)
        try:
            async with session.request(
                request.method,
                url,
                headers=request.headers,
                data=request.content,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                location = response.headers.get("Location")
                if response.status in _REDIRECTS and location:
                    request = _redirected(request, response.status, url.join(URL(location)))
                    if request.url.origin() != url.origin():
                        refusal = _leave_origin(request, filled, origin, shown)
                        if refusal is not None:
                            return refusal
                    continue
                return await _outcome(response, shown)
        except aiohttp.ClientConnectorError as exc:
            cause = exc.os_error
            why = cause.message if isinstance(cause, TargetRefusedError) else str(exc)
            raise _Unreachable(url, why) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise _Unreachable(url, f"no connection within the timeout ({exc})") from exc
    return TaskStatus.FAILED, {}, f"{shown}: more than {MAX_REDIRECTS} redirects"


def _redirected(request: _Request, status: int, url: URL) -> _Request:
    """The request to send to ``url`` after a ``status`` redirect, as browsers make it."""
    if (status == 303 and request.method != "HEAD") or (
        status in (301, 302) and request.method == "POST"
    ):
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
        return _Request("GET", url, headers, None)
    return _Request(request.method, url, dict(request.headers), request.content)


def _leave_origin(
    request: _Request, filled: FilledRequest, origin: str | None, shown: str
) -> Outcome | None:
    """A redirect to another origin: Authorization stays behind, as aiohttp would leave it;
    so do the headers holding secrets, unless the new origin is the one the definition names.
    A body that holds a secret cannot stay behind, so then the call fails."""
    dropped = {"authorization"}
    if filled.names and _origin(request.url) != origin:
        if filled.body_has_secret and request.content is not None:
            return (
                TaskStatus.FAILED_WITH_TERMINAL_ERROR,
                {},
                f"{shown}: redirected to {request.url.raw_host} with a body that holds a "
                "secret, which is sent only to the origin the definition names",
            )
        dropped |= filled.secret_headers
    request.headers = {k: v for k, v in request.headers.items() if k.lower() not in dropped}
    return None


async def _outcome(response: aiohttp.ClientResponse, shown: str) -> Outcome:
    raw = await response.read()
    status, reason_phrase = response.status, response.reason or ""
    text = raw.decode("utf-8", "replace")
    try:
        response_body: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        response_body = text
    output = {
        "response": {
            "statusCode": status,
            "reasonPhrase": reason_phrase,
            "headers": {str(k): v for k, v in response.headers.items()},
            "body": response_body,
        }
    }
    if 200 <= status < 300:
        return TaskStatus.COMPLETED, output, None
    return (
        TaskStatus.FAILED,
        output,
        f"{shown} answered {status} {reason_phrase}: {text[:500]}",
    )
