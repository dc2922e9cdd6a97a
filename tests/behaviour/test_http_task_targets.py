"""What HTTP tasks may call: not the server's own API, not metadata addresses, not where a
redirect leads past the policy; and a refusal reads like a closed port."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from podium.testing import free_port
from tests.behaviour.helpers import register, start, task_of, wait_status
from tests.behaviour.http_services import EchoService, echo_service, http_flow


@pytest.fixture
def echo() -> Iterator[EchoService]:
    with echo_service() as service:
        yield service


def _reason(api: httpx.Client, name: str, request: dict[str, object]) -> str:
    register(api, http_flow(name, request))
    body = wait_status(api, start(api, name))
    assert body["status"] == "FAILED", body
    call = task_of(body, "call")
    assert call["status"] == "FAILED", call  # retryable, as any failed connection
    reason: str = call["reasonForIncompletion"]
    return reason


def test_the_servers_own_api_is_refused(api, server):
    evil = {"name": "planted", "tasks": [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}]}
    own = f"{server.url}/api/metadata/workflow"
    plant = {"uri": own, "method": "POST", "body": evil, "connectionTimeOut": 2000}
    reason = _reason(api, "plant", plant)
    assert reason == (
        f"HTTP POST {own}: could not reach 127.0.0.1:{server.port}: refused or unreachable"
    )
    assert api.get("/api/metadata/workflow/planted").status_code == 404
    # Through a name, which the resolver checks, as well as through an address.
    by_name = f"http://localhost:{server.port}/api/metadata/workflow"
    assert _reason(api, "by_name", {"uri": by_name}).endswith(
        f"could not reach localhost:{server.port}: refused or unreachable"
    )


def test_metadata_addresses_are_refused(api):
    for name, uri, host in [
        ("aws", "http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("mapped", "http://[::ffff:169.254.169.254]/latest/", "[::ffff:a9fe:a9fe]"),
    ]:
        reason = _reason(api, name, {"uri": uri, "connectionTimeOut": 500})
        assert reason == f"HTTP GET {uri}: could not reach {host}: refused or unreachable"


def test_a_redirect_to_a_denied_target_is_refused(api, server, echo):
    echo.redirects["/meta"] = (302, "http://169.254.169.254/latest/meta-data/")
    echo.redirects["/own"] = (307, f"{server.url}/api/metadata/workflow")
    meta = _reason(api, "to_meta", {"uri": f"{echo.url}/meta", "connectionTimeOut": 500})
    assert meta.endswith("could not reach 169.254.169.254: refused or unreachable")
    own = _reason(api, "to_own", {"uri": f"{echo.url}/own", "method": "POST", "body": {}})
    assert own.endswith(f"could not reach 127.0.0.1:{server.port}: refused or unreachable")
    assert [seen.path for seen in echo.seen] == ["/meta", "/own"]


def test_a_closed_port_and_a_denied_target_read_the_same(store_choice, echo):
    closed = free_port()
    with (
        store_choice.server(http_task_deny=(f"127.0.0.1:{echo.port}",)) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        denied = _reason(api, "denied", {"uri": f"{echo.url}/x"})
        unreachable = _reason(api, "closed", {"uri": f"http://127.0.0.1:{closed}/x"})
    assert echo.seen == []  # the open port was never connected to
    assert (
        denied
        == f"HTTP GET {echo.url}/x: could not reach 127.0.0.1:{echo.port}: refused or unreachable"
    )
    assert re.sub(str(closed), str(echo.port), unreachable) == denied


def test_strict_mode_denies_loopback_unless_allowed(store_choice, echo):
    with (
        store_choice.server(http_task_strict=True) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        assert _reason(api, "strict", {"uri": f"{echo.url}/x"}).endswith("refused or unreachable")
        by_name = f"http://localhost:{echo.port}/x"
        assert _reason(api, "strict_name", {"uri": by_name}).endswith("refused or unreachable")
    assert echo.seen == []
    allowed = (f"127.0.0.1:{echo.port}",)
    with (
        store_choice.server(http_task_strict=True, http_task_allow=allowed) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        register(api, http_flow("allowed", {"uri": f"{echo.url}/y"}))
        body = wait_status(api, start(api, "allowed"))
        assert body["status"] == "COMPLETED", body
    assert [seen.path for seen in echo.seen] == ["/y"]
