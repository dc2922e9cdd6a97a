"""Running the server process."""

from __future__ import annotations

import logging

import uvicorn

from podium.gc_tuning import tune_for_service
from podium.observability.logs import setup_logging
from podium.server.app import create_app
from podium.settings import Settings

__all__ = ["serve"]


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; every acknowledged change is already on disk."""
    setup_logging(settings.log_format)
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
    server = uvicorn.Server(config)
    logging.getLogger("podium.server").info(
        "Podium listening on http://%s:%s (store: %s)",
        settings.host,
        settings.port,
        settings.store_description,
    )
    server.run()
