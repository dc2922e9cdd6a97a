"""``/docs`` and ``/redoc`` work with no network: every script, style and icon they load is
served by Podium itself."""

from __future__ import annotations

import re

import httpx
import pytest

_EXTERNAL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
_ASSET = re.compile(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
        ("/redoc", {"redoc.standalone.js", "favicon.png"}),
    ],
)
def test_the_api_docs_load_everything_from_podium(api, page, expected):
    html = api.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert _EXTERNAL.search(html.text) is None, _EXTERNAL.search(html.text)
    assets = {link for link in _ASSET.findall(html.text) if "." in link.rsplit("/", 1)[-1]}
    assert {link.rsplit("/", 1)[-1] for link in assets} >= expected
    for link in assets:
        assert link.startswith("/"), link  # on this server, not elsewhere
        got = api.get(link)
        assert got.status_code == 200, link
        if link.endswith(".js"):
            assert len(got.content) > 100_000  # the real bundle, not a stub
    assert "/openapi.json" in html.text
    assert api.get("/openapi.json").json()["info"]["title"] == "Podium"


def test_the_api_docs_open_without_a_key_when_auth_is_on(store_choice):
    with store_choice.server(auth=True) as server, httpx.Client(base_url=server.url) as anyone:
        for path in ("/docs", "/redoc", "/docs-assets/swagger-ui.css", "/openapi.json"):
            assert anyone.get(path).status_code == 200, path
        # The routes the document describes still need a key.
        assert anyone.get("/api/workflow/search").status_code == 401
