"""Running the server process."""

from __future__ import annotations

import errno
import logging
import socket

import uvicorn

from podium.gc_tuning import tune_for_service
from podium.observability.logs import setup_logging
from podium.server.app import create_app
from podium.settings import Settings

__all__ = ["serve"]

log = logging.getLogger("podium.server")


class _Server(uvicorn.Server):
    """Says "listening" once it is: after the store opened and the socket accepts."""

    description = ""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            log.info("Podium listening on %s", self.description)


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; every acknowledged change is already on disk."""
    setup_logging(settings.log_format)
    # Bound before anything else starts, so that a busy port is reported as such, at once,
    # rather than after the store opened (and migrated) for nothing.
    sock = _bind(settings.host, settings.port)
    app = create_app(settings)
    tune_for_service()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    server.description = f"http://{shown}:{port} (store: {settings.store_description})"
    server.run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", host, port, exc)
        raise SystemExit(1) from exc
    # As uvicorn sets it: a port in TIME_WAIT from a server just stopped counts as free.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            message = (
                f"port {port} on {host} is already in use (another Podium, or another program, "
                "listens there): stop it or choose another port with --port / PODIUM_PORT"
            )
        else:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        log.error("%s", message)
        raise SystemExit(1) from exc
    sock.set_inheritable(True)
    return sock
