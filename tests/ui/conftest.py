"""A Podium server and real headless Chromium (Debian's), driven by Playwright.

Screenshots go to ``test-artifacts/ui/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from podium.testing import PodiumTestServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


# Module scope: while Playwright's sync API runs, its event loop is the thread's current one,
# which the asyncio tests that follow must not inherit.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def ui_server(tmp_path: Path) -> Iterator[PodiumTestServer]:
    with PodiumTestServer(tmp_path / "ui.db", sweep_interval_s=0.2) as running:
        yield running


@pytest.fixture
def api(ui_server: PodiumTestServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_server.url, timeout=10) as client:
        yield client


class Screens:
    """Saves screenshots named after the test, in the order they are taken."""

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.prefix = test_name.removeprefix("test_")
        self.count = 0

    def save(self, what: str) -> Path:
        self.count += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@contextmanager
def opened_page(browser: Browser, url: str, test_name: str) -> Iterator[tuple[Page, Screens]]:
    """A fresh browser context on ``url``; any script error in it fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        # A 404 the UI expects (a run id that is not one, a feature not on this server), or a
        # 401/403 it turns into a sign-in form or a message, is handled by the page; Chromium
        # still reports it on the console.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    opened.on("console", on_console)
    opened.set_default_timeout(15_000)
    opened.goto(url)
    try:
        yield opened, Screens(opened, test_name)
    finally:
        context.close()
    # A script error anywhere in the UI fails the test that caused it.
    assert not errors, errors


@pytest.fixture
def page(browser: Browser, ui_server: PodiumTestServer, request: pytest.FixtureRequest):
    with opened_page(browser, f"{ui_server.url}/ui/", request.node.name) as opened:
        yield opened
