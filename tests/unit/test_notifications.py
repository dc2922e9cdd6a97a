"""Notifications' pure parts: signatures, channels, messages, rates and back-off."""

from __future__ import annotations

import hashlib
import hmac
import random

import pydantic
import pytest

from podium.dsl.notifications import Channel, NotifyEvent, redacted_channels
from podium.dsl.services import Service
from podium.engine.state import RunState, RunStatus
from podium.engine.task_state import TaskState, TaskStatus
from podium.notifications.limiter import ChannelLimiter
from podium.notifications.messages import error_code, render_text, run_message, with_links
from podium.notifications.signing import sign, verify
from podium.server.notify_pump import next_attempt_ms


def test_a_signature_is_stripes_scheme_over_the_timestamp_and_body():
    body = b'{"event":"run.failed"}'
    header = sign("s3cret", body, 1_700_000_000)
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify("s3cret", body, header, now=1_700_000_100)
    assert not verify("s3cret", body + b" ", header, now=1_700_000_100)
    assert not verify("other", body, header, now=1_700_000_100)
    assert not verify("s3cret", body, header, now=1_700_001_000)  # too old: a replay
    assert not verify("s3cret", body, "v1=abc", now=1_700_000_000)


def test_a_channel_needs_the_target_of_its_kind_and_known_events():
    assert Channel.model_validate({"kind": "email", "to": "a@b.c"}).target == "a@b.c"
    with pytest.raises(pydantic.ValidationError, match="needs `to`"):
        Channel.model_validate({"kind": "email", "url": "https://x"})
    with pytest.raises(pydantic.ValidationError, match="needs `url`"):
        Channel.model_validate({"kind": "slack"})
    with pytest.raises(pydantic.ValidationError):
        Channel.model_validate({"kind": "webhook", "url": "https://x", "events": ["run.nope"]})
    some = Channel.model_validate(
        {"kind": "webhook", "url": "https://x", "events": ["breaker.opened"]}
    )
    assert some.wants(NotifyEvent.BREAKER_OPENED) and not some.wants(NotifyEvent.RUN_FAILED)
    # The id does not spell out the URL, which may carry a token.
    slack = Channel.model_validate({"kind": "slack", "url": "https://hooks/T0/B0/token"})
    assert slack.channel_id.startswith("slack:") and "token" not in slack.channel_id
    shown = redacted_channels([{"kind": "webhook", "url": "https://x", "secret": "s"}])
    assert shown == [{"kind": "webhook", "url": "https://x", "secretSet": True}]
    hidden = redacted_channels([{"kind": "slack", "url": "https://hooks.slack.com/T0/B0/tok"}])
    assert hidden == [{"kind": "slack", "url": "https://hooks.slack.com/…"}]


def _task(**fields: object) -> TaskState:
    base: dict[str, object] = {
        "task_id": "t1",
        "ref": "charge",
        "name": "charge_card",
        "type": "SIMPLE",
        "status": TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        "seq": 1,
        "scheduled_at": 0,
    }
    return TaskState(**{**base, **fields})  # type: ignore[arg-type]


def test_an_error_code_comes_from_the_output_or_the_start_of_the_reason():
    assert error_code(_task(output={"errorCode": "INSUFFICIENT_FUNDS"})) == "INSUFFICIENT_FUNDS"
    assert error_code(_task(reason="CARD_DECLINED: over the limit")) == "CARD_DECLINED"
    assert error_code(_task(reason="card declined")) is None
    assert error_code(None) is None


def test_a_run_message_names_the_run_service_owner_and_code_runbook():
    service = Service.model_validate(
        {
            "name": "payment",
            "owner": "Payments team",
            "onCall": "#pay",
            "runbook": "https://rb/payment",
            "runbooks": {"CARD_DECLINED": "https://rb/declined"},
        }
    )
    run = RunState(run_id="r1", name="checkout", version=2, status=RunStatus.FAILED, created_at=0)
    run.reason = "card declined"
    task = _task(reason="CARD_DECLINED: over the limit")
    body = run_message(NotifyEvent.RUN_FAILED, run, task, "payment", service, now=5)
    assert body["service"]["runbook"] == "https://rb/declined"
    assert body["summary"] == "checkout run r1 failed: card declined (service payment)"
    linked = with_links(body, "http://podium:8080/")
    assert linked["run"]["url"] == "http://podium:8080/ui/#/run/r1"
    text = render_text(linked)
    for line in (
        "Run: r1 (FAILED) http://podium:8080/ui/#/run/r1",
        "Workflow: checkout v2",
        "Task: charge FAILED_WITH_TERMINAL_ERROR [CARD_DECLINED]: CARD_DECLINED: over the limit",
        "Owner: Payments team",
        "On call: #pay",
        "Runbook: https://rb/declined",
    ):
        assert line in text.splitlines(), text
    plain = run_message(NotifyEvent.RUN_FAILED, run, _task(reason="x"), "payment", service, 5)
    assert plain["service"]["runbook"] == "https://rb/payment"


def test_a_channel_over_its_rate_waits_for_its_next_token():
    limiter = ChannelLimiter(burst=2)
    assert limiter.wait_ms("c", per_minute=60, now=0) == 0
    assert limiter.wait_ms("c", per_minute=60, now=0) == 0
    assert limiter.wait_ms("c", per_minute=60, now=0) == 1000  # one a second
    assert limiter.wait_ms("other", per_minute=60, now=0) == 0  # each channel its own
    assert limiter.wait_ms("c", per_minute=60, now=400) == 600
    assert limiter.wait_ms("c", per_minute=60, now=1000) == 0


def test_the_back_off_doubles_with_equal_jitter_and_a_cap():
    rng = random.Random(7)
    for attempts, base in ((1, 1000), (2, 2000), (3, 4000)):
        delays = {next_attempt_ms(attempts, 1000, rng) for _ in range(50)}
        assert min(delays) >= base / 2 and max(delays) <= base
        assert len(delays) > 1  # jittered
    assert 150_000 <= next_attempt_ms(30, 1000, rng) <= 300_000  # capped
