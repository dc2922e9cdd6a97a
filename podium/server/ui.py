"""``/ui``: the web UI, static files shipped in the package and served as they are."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

__all__ = ["UI_DIR", "mount_ui"]

UI_DIR = Path(__file__).resolve().parent.parent / "ui" / "static"


def mount_ui(app: FastAPI) -> None:
    @app.get("/ui", include_in_schema=False)
    async def ui_root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.mount("/ui/", StaticFiles(directory=UI_DIR, html=True), name="ui")
