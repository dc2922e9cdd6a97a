"""Shared fixtures: a real Podium server per test, over each store backend."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from podium.testing import PodiumTestServer

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path) -> Iterator[PodiumTestServer]:
    """A running server on a fresh database of each backend."""
    with PodiumTestServer(tmp_path / "podium.db", sweep_interval_s=0.2) as running:
        yield running


@pytest.fixture
def api(server: PodiumTestServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
