"""The UI against a server with authentication on: it asks for an API key, keeps it for the
tab, sends it on every call, signs out, and shows a 403 as the server words it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from podium.testing import PodiumTestServer
from tests.behaviour.helpers import register, start
from tests.ui.conftest import opened_page


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Keys and a run made with auth off, then the same database served with auth on."""
    database = tmp_path / "auth.db"
    with PodiumTestServer(database) as open_server, httpx.Client(base_url=open_server.url) as api:
        keys = {}
        for role in ("operator", "reader"):
            made = api.post("/api/keys", json={"keyId": f"ui-{role}", "roles": [role]})
            assert made.status_code == 200, made.text
            keys[role] = f"{made.json()['keyId']}:{made.json()['keySecret']}"
        register(
            api, {"name": "ui_locked", "tasks": [{"name": "ui_work", "taskReferenceName": "w"}]}
        )
        run_id = start(api, "ui_locked", correlationId="locked-1")
    with PodiumTestServer(database, auth=True, auth_key_cache_s=0.0) as server:
        yield {"server": server, "keys": keys, "run": run_id}


def test_the_ui_asks_for_a_key_sends_it_and_signs_out(browser: Browser, secured, request):
    url = secured["server"].url
    assert httpx.get(f"{url}/api/workflow/{secured['run']}").status_code == 401
    with opened_page(browser, f"{url}/ui/#/runs", request.node.name) as (page, screens):
        form = page.locator("form#signin")
        expect(form).to_be_visible()
        expect(page.locator("#signin-reason")).to_contain_text("requires an API key")
        expect(page.locator("#account")).to_be_empty()
        screens.save("asked")

        page.fill("input[name=apiKey]", "not-a-key")
        page.click("form#signin button[type=submit]")
        expect(page.locator("#signin-error")).to_have_text("An API key is written keyId:keySecret.")
        page.fill("input[name=apiKey]", "ui-operator:wrong-secret")
        page.click("form#signin button[type=submit]")
        expect(page.locator("#signin-error")).to_contain_text(
            "Not accepted: unknown key, wrong secret, or revoked key"
        )
        assert page.evaluate("() => sessionStorage.getItem('podium.apiKey')") is None

        # Every request after signing in carries the key.
        sent: list[str | None] = []
        page.on(
            "request",
            lambda r: sent.append(r.headers.get("authorization")) if "/api/" in r.url else None,
        )
        page.fill("input[name=apiKey]", secured["keys"]["operator"])
        page.click("form#signin button[type=submit]")
        expect(page.locator("table.runs tbody tr[data-run]")).to_have_count(1)
        expect(page.locator("#account .who")).to_have_text("ui-operator")
        stored = page.evaluate("() => sessionStorage.getItem('podium.apiKey')")
        assert stored == secured["keys"]["operator"]
        page.locator("table.runs a.mono").click()
        expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
        assert sent and all(h == f"Bearer {stored}" for h in sent), sent
        screens.save("signed-in")

        # A reload keeps the key for the tab.
        page.reload()
        expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")

        page.click("#signout")
        expect(page.locator("form#signin")).to_be_visible()
        assert page.evaluate("() => sessionStorage.getItem('podium.apiKey')") is None
        expect(page.locator("#account")).to_be_empty()
        screens.save("signed-out")


def test_a_key_without_the_permission_sees_the_403_message(browser: Browser, secured, request):
    url = secured["server"].url
    with opened_page(browser, f"{url}/ui/#/run/{secured['run']}", request.node.name) as (
        page,
        screens,
    ):
        page.fill("input[name=apiKey]", secured["keys"]["reader"])
        page.click("form#signin button[type=submit]")
        expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
        page.click("button[data-action=pause]")
        notice = page.locator("#notice")
        expect(notice).to_have_class("notice error")
        expect(notice).to_contain_text("Pause failed:")
        expect(notice).to_contain_text("it needs the operate permission")
        expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
        screens.save("forbidden")
