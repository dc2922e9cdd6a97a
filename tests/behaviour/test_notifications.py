"""Notifications: a failure tells the owning service's channels, signed, once, from an outbox
that survives a crash; failed deliveries are retried, then dead, then replayed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from podium.cli import app
from podium.notifications import SIGNATURE_HEADER, verify
from podium.notifications.settings import NotifySettings
from tests.behaviour.helpers import complete, poll, register, start, wait_status
from tests.behaviour.receivers import SmtpServer, WebhookReceiver, smtp_server, webhook_receiver

SECRET = "whsec-payments"
RUNBOOK = "https://runbooks.example.com/payment"
DECLINED_RUNBOOK = "https://runbooks.example.com/payment/card-declined"
FLOW = {
    "name": "checkout",
    "tasks": [{"name": "charge_card", "taskReferenceName": "charge", "type": "SIMPLE"}],
}
CHARGE_DEF = {"name": "charge_card", "retryCount": 0, "service": "payment"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    yield from webhook_receiver()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from smtp_server()


def _payment(receiver: WebhookReceiver, *channels: dict[str, object]) -> dict[str, object]:
    return {
        "name": "payment",
        "owner": "Payments team",
        "contact": "payments@example.com",
        "onCall": "#payments-oncall",
        "runbook": RUNBOOK,
        "runbooks": {"CARD_DECLINED": DECLINED_RUNBOOK},
        "notifications": [
            {"kind": "webhook", "url": f"{receiver.url}/hook", "secret": SECRET},
            *channels,
        ],
    }


def _fail_a_charge(api) -> str:
    register(api, FLOW, [CHARGE_DEF])
    run_id = start(api, "checkout")
    (task,) = poll(api, "charge_card")
    response = complete(
        api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="CARD_DECLINED: over the limit"
    )
    assert response.status_code == 200, response.text
    assert wait_status(api, run_id)["status"] == "FAILED"
    return run_id


def _deliveries(api, **params: str) -> list[dict[str, object]]:
    response = api.get("/api/notifications/deliveries", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()
    return found


def _wait_state(api, notification_id: str, state: str, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = api.get(f"/api/notifications/{notification_id}").json()
        if body["state"] == state:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_a_failing_payment_service_sends_one_signed_notification_to_its_owner(
    store_choice, receiver, smtp
):
    notify = NotifySettings(smtp_host="127.0.0.1", smtp_port=smtp.port)
    email = {"kind": "email", "to": "payments@example.com", "events": ["run.failed"]}
    with store_choice.server(sweep_interval_s=0.2, notify=notify) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            assert api.post("/api/services", json=_payment(receiver, email)).status_code == 200
            shown = api.get("/api/services/payment").json()
            assert SECRET not in str(shown)
            assert shown["notifications"][0]["secretSet"] is True
            listed = CliRunner().invoke(
                app, ["services", "show", "payment", "--server", server.url]
            )
            assert listed.exit_code == 0, listed.output
            assert f"runbook  {RUNBOOK}" in listed.output
            assert f"runbook  CARD_DECLINED: {DECLINED_RUNBOOK}" in listed.output
            assert f"notifies webhook {receiver.url}/hook (signed): every event" in listed.output
            assert "notifies email payments@example.com: run.failed" in listed.output
            run_id = _fail_a_charge(api)

            (hook,) = receiver.wait_for(1)
            now = int(time.time())
            assert verify(SECRET, hook.body, hook.headers[SIGNATURE_HEADER], now)
            assert not verify("another secret", hook.body, hook.headers[SIGNATURE_HEADER], now)
            message = orjson.loads(hook.body)
            assert message["event"] == "run.failed"
            assert message["run"]["id"] == run_id
            assert message["run"]["url"] == f"{server.url}/ui/#/run/{run_id}"
            assert message["workflow"]["name"] == "checkout"
            assert message["service"] == {
                "name": "payment",
                "owner": "Payments team",
                "contact": "payments@example.com",
                "onCall": "#payments-oncall",
                "runbook": DECLINED_RUNBOOK,
            }
            assert message["task"]["errorCode"] == "CARD_DECLINED"
            assert hook.headers["X-Podium-Delivery"] == message["id"]

            (mail,) = smtp.wait_for(1)
            assert mail["To"] == "payments@example.com"
            text = mail.get_payload()
            assert isinstance(text, str)
            for part in (run_id, "Payments team", "#payments-oncall", DECLINED_RUNBOOK):
                assert part in text, text

            rows = _deliveries(api, runId=run_id)
            assert sorted(str(row["kind"]) for row in rows) == ["email", "webhook"]
            for row in rows:
                body = _wait_state(api, str(row["id"]), "SENT")
                assert len(body["attempts"]) == 1  # type: ignore[arg-type]
                assert "target" not in body and SECRET not in str(body)

            # The run's failure names the runbook for its error code.
            failure = api.get(f"/api/workflow/{run_id}").json()["failure"]
            assert failure["runbook"] == DECLINED_RUNBOOK
            status = CliRunner().invoke(app, ["status", run_id, "--server", server.url])
            assert status.exit_code == 0, status.output
            assert re.search(rf"runbook\s+{re.escape(DECLINED_RUNBOOK)}", status.output)
            time.sleep(0.5)
            assert len(receiver.received) == 1


def test_a_crash_between_the_decision_and_the_delivery_still_delivers_once(store_choice, receiver):
    # The first server writes the decision and its notification but never sends it, as if
    # it had died just after the commit.
    with store_choice.server(sweep_interval_s=0.2, notify=NotifySettings(pump=False)) as first:
        with httpx.Client(base_url=first.url, timeout=30) as api:
            api.post("/api/services", json=_payment(receiver))
            run_id = _fail_a_charge(api)
            (row,) = _deliveries(api, runId=run_id)
            assert row["state"] == "PENDING" and row["attempts"] == 0
    assert receiver.received == []

    with store_choice.server(sweep_interval_s=0.2) as second:
        with httpx.Client(base_url=second.url, timeout=30) as api:
            (hook,) = receiver.wait_for(1)
            assert orjson.loads(hook.body)["run"]["id"] == run_id
            _wait_state(api, str(row["id"]), "SENT")
            time.sleep(0.5)
            assert len(receiver.received) == 1
            assert len(_deliveries(api)) == 1


def test_a_failing_channel_is_retried_then_dead_then_replayed(store_choice, receiver):
    receiver.failures = 2
    notify = NotifySettings(max_attempts=2, retry_base_ms=50)
    with store_choice.server(sweep_interval_s=0.2, notify=notify) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            api.post("/api/services", json=_payment(receiver))
            run_id = _fail_a_charge(api)
            (row,) = _deliveries(api, runId=run_id)
            dead = _wait_state(api, str(row["id"]), "DEAD")
            attempts = dead["attempts"]
            assert [a["ok"] for a in attempts] == [False, False]  # type: ignore[union-attr]
            assert "HTTP 500" in str(dead["lastError"])
            assert [r["id"] for r in api.get("/api/notifications/dead").json()] == [row["id"]]
            assert receiver.received == []

            cli = CliRunner()
            listed = cli.invoke(app, ["notifications", "dead", "--server", server.url])
            assert listed.exit_code == 0, listed.output
            assert str(row["id"]) in listed.output and "HTTP 500" in listed.output
            replayed = cli.invoke(
                app, ["notifications", "replay", str(row["id"]), "--server", server.url]
            )
            assert replayed.exit_code == 0, replayed.output
            assert f"replaying {row['id']} (was DEAD)" in replayed.output
            receiver.wait_for(1)
            _wait_state(api, str(row["id"]), "SENT")
            assert api.get("/api/notifications/dead").json() == []
            shown = cli.invoke(
                app, ["notifications", "show", str(row["id"]), "--server", server.url]
            )
            assert shown.exit_code == 0, shown.output
            assert shown.output.count("  failed  HTTP 500") == 2 and "HTTP 200" in shown.output
            assert f"runbook {DECLINED_RUNBOOK}" in shown.output
            again = api.post(f"/api/notifications/{row['id']}/replay")
            assert again.status_code == 200 and again.json()["was"] == "SENT"
            missing = api.post("/api/notifications/nope/replay")
            assert missing.status_code == 404


def test_a_breaker_opening_tells_the_service_channels(store_choice, receiver):
    service = {
        **_payment(receiver),
        "circuitBreaker": {"failureThreshold": 2, "openSeconds": 60},
        "notifications": [
            {"kind": "slack", "url": f"{receiver.url}/slack", "events": ["breaker.opened"]}
        ],
    }
    flow = {
        "name": "retrying_checkout",
        "tasks": [{"name": "charge_card", "taskReferenceName": "charge", "type": "SIMPLE"}],
    }
    with store_choice.server(sweep_interval_s=0.2) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            api.post("/api/services", json=service)
            register(api, flow, [{**CHARGE_DEF, "retryCount": 3, "retryDelaySeconds": 0}])
            start(api, "retrying_checkout")
            for _ in range(2):
                (task,) = poll(api, "charge_card")
                complete(api, task, status="FAILED", reason="gateway down")
            (hook,) = receiver.wait_for(1)
            assert hook.path == "/slack"
            text = orjson.loads(hook.body)["text"]
            assert "service payment: circuit breaker opened" in text
            assert f"Runbook: {RUNBOOK}" in text
            assert SIGNATURE_HEADER not in hook.headers  # no secret, no signature


def test_a_bad_channel_is_refused_naming_the_field(api):
    service = {
        "name": "payment",
        "owner": "Payments team",
        "notifications": [{"kind": "webhook", "secret": "s"}],
    }
    response = api.post("/api/services", json=service)
    assert response.status_code == 400
    assert "notifications" in response.json()["message"], response.json()
    bad_event = {
        **service,
        "notifications": [{"kind": "slack", "url": "http://x", "events": ["x"]}],
    }
    response = api.post("/api/services", json=bad_event)
    assert response.status_code == 400 and "events" in response.json()["message"]
    assert api.get("/api/services").json() == []
    flow = {**FLOW, "notifications": [{"kind": "webhook", "url": "http://x", "secret": "plain"}]}
    response = api.post("/api/metadata/workflow", json=flow)
    assert response.status_code == 400, response.text
    assert "notifications" in response.json()["message"]
    assert "${workflow.secrets.NAME}" in response.json()["message"]
    assert api.get("/api/metadata/workflow").json() == []


def test_a_workflow_declares_its_own_channel_with_a_server_secret(
    store_choice, receiver, monkeypatch
):
    monkeypatch.setenv("PODIUM_SECRET_CHECKOUT_HOOK", "from-the-server")
    flow = {
        **FLOW,
        "name": "guarded_checkout",
        "notifications": [
            {
                "kind": "webhook",
                "url": f"{receiver.url}/flow",
                "secret": "${workflow.secrets.checkout_hook}",
                "events": ["run.failed"],
            }
        ],
    }
    with store_choice.server(sweep_interval_s=0.2) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            # No service in the registry: the workflow's own channel is told all the same.
            register(api, flow, [{**CHARGE_DEF, "service": None}])
            run_id = start(api, "guarded_checkout")
            (task,) = poll(api, "charge_card")
            complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="boom")
            assert wait_status(api, run_id)["status"] == "FAILED"
            (hook,) = receiver.wait_for(1)
            assert hook.path == "/flow"
            header = hook.headers[SIGNATURE_HEADER]
            assert verify("from-the-server", hook.body, header, int(time.time()))
            message = orjson.loads(hook.body)
            assert message["run"]["id"] == run_id and message["service"] == {}


def test_a_channel_over_its_rate_gets_every_message_later_not_fewer(store_choice, receiver):
    # 60 a minute with bursts of 5: five go at once, the sixth and seventh a second apart.
    with store_choice.server(sweep_interval_s=0.2) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            api.post("/api/services", json=_payment(receiver))
            register(api, FLOW, [CHARGE_DEF])
            run_ids = [start(api, "checkout") for _ in range(7)]
            tasks = poll(api, "charge_card", count=7)
            assert len(tasks) == 7
            began = time.monotonic()
            for task in tasks:
                complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="declined")
            received = receiver.wait_for(7)
            took = time.monotonic() - began
            assert 1.5 <= took < 10, took
            told = sorted(orjson.loads(hook.body)["run"]["id"] for hook in received)
            assert told == sorted(run_ids)
            time.sleep(0.3)
            assert len(receiver.received) == 7
            metrics = api.get("/metrics").text
            sent = [
                line
                for line in metrics.splitlines()
                if line.startswith("podium_notifications_total{") and 'outcome="sent"' in line
            ]
            assert len(sent) == 1 and sent[0].endswith(" 7.0"), sent


def test_a_run_timed_out_tells_its_workflows_channel(store_choice, receiver):
    flow = {
        **FLOW,
        "name": "slow_checkout",
        "timeoutSeconds": 1,
        "timeoutPolicy": "TIME_OUT_WF",
        "notifications": [{"kind": "webhook", "url": f"{receiver.url}/late"}],
    }
    with store_choice.server(sweep_interval_s=0.2) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            register(api, flow, [CHARGE_DEF])
            run_id = start(api, "slow_checkout")
            assert wait_status(api, run_id)["status"] == "TIMED_OUT"
            (hook,) = receiver.wait_for(1)
            message = orjson.loads(hook.body)
            assert message["event"] == "run.timed_out" and message["run"]["id"] == run_id
            assert "timed out" in message["summary"]


@pytest.mark.parametrize("store_choice", ["postgres"], indirect=True)
def test_two_instances_pumping_one_outbox_send_each_notification_once(store_choice, receiver):
    # PostgreSQL only: instances share a database there. Both pump; each row goes once.
    with (
        store_choice.server(sweep_interval_s=0.2) as first,
        store_choice.server(sweep_interval_s=0.2) as second,
    ):
        with (
            httpx.Client(base_url=first.url, timeout=30) as api,
            httpx.Client(base_url=second.url, timeout=30) as other,
        ):
            api.post("/api/services", json=_payment(receiver))
            register(api, FLOW, [CHARGE_DEF])
            run_ids = [start(api, "checkout") for _ in range(4)]
            tasks = poll(api, "charge_card", count=4)
            for n, task in enumerate(tasks):
                complete(api if n % 2 else other, task, status="FAILED_WITH_TERMINAL_ERROR")
            received = receiver.wait_for(4)
            time.sleep(1.0)
            assert len(receiver.received) == 4
            told = sorted(orjson.loads(hook.body)["run"]["id"] for hook in received)
            assert told == sorted(run_ids)
