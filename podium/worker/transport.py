"""The worker's HTTP client: aiohttp, kept behind a small interface.

Workers make two requests per task (or one, with ``update-v2``), so the client's own cost per
request is most of a worker's overhead. aiohttp's is an order of magnitude below httpx's async
client under concurrency on this kind of machine (measured: about 3,000-4,000 vs 200-800
requests/s with 4-32 requests in flight), so the hot path uses it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp
import orjson

__all__ = ["HttpResponse", "HttpTransport", "TransportError"]


class TransportError(Exception):
    """The request did not get an answer: the server is down, restarting or unreachable."""


class HttpResponse:
    """What the runner needs of an answer: status and body."""

    __slots__ = ("content", "status_code")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise ValueError(str(exc)) from exc


class HttpTransport:
    """A keep-alive connection pool to one server."""

    def __init__(self, base_url: str, *, pool: int, timeout_s: float, connect_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.pool = pool
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_read=timeout_s, sock_connect=connect_s
        )
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpTransport:
        connector = aiohttp.TCPConnector(limit=self.pool, limit_per_host=self.pool)
        self._session = aiohttp.ClientSession(
            self.base_url, connector=connector, timeout=self.timeout, auto_decompress=True
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self, path: str, *, params: dict[str, str | int], timeout_s: float | None = None
    ) -> HttpResponse:
        timeout = None
        if timeout_s is not None:
            timeout = aiohttp.ClientTimeout(
                total=None, sock_read=timeout_s, sock_connect=self.timeout.sock_connect
            )
        return await self._request("GET", path, params=params, timeout=timeout)

    async def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> HttpResponse:
        return await self._request("POST", path, data=content, headers=headers)

    async def _request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        if self._session is None:
            raise TransportError("the transport is not open")
        if kwargs.get("timeout") is None:
            kwargs.pop("timeout", None)
        try:
            async with self._session.request(method, path, **kwargs) as response:
                return HttpResponse(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
