"""Secrets reach HTTP calls only from the definition's own template, and only its host.

Text such as ``${workflow.secrets.TOKEN}`` that arrives as data (a run's input, a worker's
output) is sent as the text it is; a secret is refused to a host that data chose; and a secret
header does not follow a redirect to another origin.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status
from tests.behaviour.http_services import EchoService, echo_service, http_flow

VALUE = "tok-7f3a-not-for-you"
REFERENCE = "${workflow.secrets.TOKEN}"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PODIUM_SECRET_TOKEN", VALUE)
    return VALUE


@pytest.fixture
def echo() -> Iterator[EchoService]:
    with echo_service() as service:
        yield service


@pytest.fixture
def other() -> Iterator[EchoService]:
    with echo_service() as service:
        yield service


def _everything_seen(*services: EchoService) -> str:
    return repr([seen for service in services for seen in service.seen])


def test_a_secret_reference_in_a_run_input_is_sent_as_text(api, token, echo):
    request = {
        "uri": f"{echo.url}/orders",
        "method": "POST",
        "headers": {"X-Note": "${workflow.input.note}"},
        "body": {"note": "${workflow.input.note}"},
    }
    register(api, http_flow("no_secrets", request))
    body = wait_status(api, start(api, "no_secrets", {"note": REFERENCE}))
    assert body["status"] == "COMPLETED", body
    [seen] = echo.seen
    assert seen.headers["x-note"] == REFERENCE
    assert REFERENCE in seen.body
    assert token not in _everything_seen(echo)
    assert token not in api.get(f"/api/workflow/{body['workflowId']}").text


def test_a_secret_reference_in_a_worker_output_is_sent_as_text(api, token, echo):
    # The definition uses the secret itself, next to a worker's output holding the reference:
    # only the template's own reference becomes the secret.
    produce = {"name": "produce", "taskReferenceName": "produce", "type": "SIMPLE"}
    request = {
        "uri": f"{echo.url}/notes",
        "method": "POST",
        "headers": {"Authorization": "Bearer ${workflow.secrets.TOKEN} ${produce.output.note}"},
        "body": {"note": "${produce.output.note}", "list": ["${produce.output.note}"]},
    }
    register(api, http_flow("mixed", request, [produce]), [{"name": "produce"}])
    run_id = start(api, "mixed")
    [task] = poll(api, "produce")
    assert complete(api, task, {"note": REFERENCE}).status_code == 200
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED", body
    [seen] = echo.seen
    assert seen.headers["authorization"] == f"Bearer {token} {REFERENCE}"
    assert token not in seen.body and seen.body.count(REFERENCE) == 2
    stored = api.get(f"/api/workflow/{run_id}").text
    assert token not in stored and REFERENCE in stored


def test_a_bracketed_secret_name_is_the_secret_itself(api, token, echo):
    # ``['TOKEN']`` is the key ``TOKEN``, in a secret reference as in any other.
    request = {
        "uri": f"{echo.url}/orders",
        "method": "POST",
        "headers": {"Authorization": "Bearer ${workflow.secrets['TOKEN']}"},
    }
    register(api, http_flow("bracketed", request))
    body = wait_status(api, start(api, "bracketed"))
    assert body["status"] == "COMPLETED", body
    [seen] = echo.seen
    assert seen.headers["authorization"] == f"Bearer {token}"
    assert token not in api.get(f"/api/workflow/{body['workflowId']}").text


def test_a_secret_is_not_sent_to_a_host_that_data_chose(api, token, echo):
    secret_header = {"Authorization": f"Bearer {REFERENCE}"}
    register(
        api, http_flow("data_host", {"uri": "${workflow.input.url}", "headers": secret_header})
    )
    # The template names localhost, but data completes the authority: the host is data's.
    tricky = {"uri": f"http://localhost:{echo.port}" + "${workflow.input.rest}"}
    register(api, http_flow("tricky_host", {**tricky, "headers": secret_header}))
    register(api, http_flow("data_host_plain", {"uri": "${workflow.input.url}"}))

    chosen = wait_status(api, start(api, "data_host", {"url": f"{echo.url}/steal"}))
    sneaked = wait_status(api, start(api, "tricky_host", {"rest": f"@127.0.0.1:{echo.port}/x"}))
    for body in (chosen, sneaked):
        assert body["status"] == "FAILED", body
        call = task_of(body, "call")
        assert call["status"] == "FAILED_WITH_TERMINAL_ERROR"
        assert "secret 'TOKEN' is not sent to 127.0.0.1" in call["reasonForIncompletion"]
        assert token not in api.get(f"/api/workflow/{body['workflowId']}").text
    assert echo.seen == []
    # Without a secret, a host from data is called as before (Conductor does so too).
    plain = wait_status(api, start(api, "data_host_plain", {"url": f"{echo.url}/ok"}))
    assert plain["status"] == "COMPLETED", plain
    assert [seen.path for seen in echo.seen] == ["/ok"]


def test_secret_headers_do_not_follow_a_redirect_to_another_origin(api, token, echo, other):
    echo.redirects["/away"] = (302, f"{other.url}/landed")
    echo.redirects["/here"] = (302, "/final")
    headers = {"Authorization": f"Bearer {REFERENCE}", "X-Api-Key": REFERENCE, "X-Plain": "kept"}
    register(api, http_flow("away", {"uri": f"{echo.url}/away", "headers": headers}))
    register(api, http_flow("here", {"uri": f"{echo.url}/here", "headers": headers}))

    away = wait_status(api, start(api, "away"))
    assert away["status"] == "COMPLETED", away
    [landed] = other.seen
    assert landed.path == "/landed"
    assert "authorization" not in landed.headers and "x-api-key" not in landed.headers
    assert landed.headers["x-plain"] == "kept"
    assert token not in _everything_seen(other)
    assert echo.seen[0].headers["x-api-key"] == token  # the origin the definition names

    here = wait_status(api, start(api, "here"))
    assert here["status"] == "COMPLETED", here
    assert [s.path for s in echo.seen] == ["/away", "/here", "/final"]
    assert echo.seen[-1].headers["authorization"] == f"Bearer {token}"


def test_a_body_holding_a_secret_is_not_redirected_to_another_origin(api, token, echo, other):
    echo.redirects["/charge"] = (307, f"{other.url}/charge")
    request = {"uri": f"{echo.url}/charge", "method": "POST", "body": {"token": REFERENCE}}
    register(api, http_flow("charge", request))
    body = wait_status(api, start(api, "charge"))
    assert body["status"] == "FAILED", body
    call = task_of(body, "call")
    assert call["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert (
        "redirected to 127.0.0.1 with a body that holds a secret" in call["reasonForIncompletion"]
    )
    assert other.seen == []
    assert token in echo.seen[0].body
    assert token not in api.get(f"/api/workflow/{body['workflowId']}").text
