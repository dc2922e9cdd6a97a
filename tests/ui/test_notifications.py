"""The Notifications page in real headless Chromium against a real server: a dead
notification shows its last error, a replay sends it, and the run's failure names the runbook."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, start, wait_status
from tests.behaviour.receivers import WebhookReceiver, webhook_receiver

FLOW = {
    "name": "ui_checkout",
    "tasks": [{"name": "ui_charge", "taskReferenceName": "charge", "type": "SIMPLE"}],
}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    yield from webhook_receiver()


def test_notifications_page_shows_the_log_and_replays(api, page, receiver):
    page, screens = page
    # Every attempt fails until the replay (the server makes at most 8).
    receiver.failures = 8
    api.post(
        "/api/services",
        json={
            "name": "payment",
            "owner": "Payments team",
            "runbook": "https://runbooks.example.com/payment",
            "notifications": [{"kind": "webhook", "url": f"{receiver.url}/hook"}],
        },
    )
    register(api, FLOW, [{"name": "ui_charge", "retryCount": 0, "service": "payment"}])
    run_id = start(api, "ui_checkout")
    (task,) = poll(api, "ui_charge")
    complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="card declined")
    wait_status(api, run_id)

    base = page.url.split("#")[0]
    page.goto(base + f"#/run/{run_id}")
    expect(page.locator(".failure a.runbook")).to_have_attribute(
        "href", "https://runbooks.example.com/payment"
    )
    page.goto(base + "#/services")
    expect(page.locator("tr[data-service=payment] a.runbook")).to_have_attribute(
        "href", "https://runbooks.example.com/payment"
    )
    page.goto(base + "#/notifications")
    expect(page.locator("nav a[data-nav=notifications]")).to_have_class(re.compile("active"))
    row = page.locator("#notifications tr[data-notification]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(run_id)
    expect(row).to_contain_text("Payments team")
    expect(row).to_contain_text("HTTP 500")
    screens.save("failing")

    receiver.failures = 0
    # The failed attempt is on record (above), and the row waits for its next: sent now.
    row.locator("button[data-action=replay]").click()
    expect(row).to_have_attribute("data-state", "SENT", timeout=15_000)
    assert receiver.wait_for(1)
    screens.save("sent")
