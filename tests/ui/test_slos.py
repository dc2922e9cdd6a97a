"""The SLOs page in real headless Chromium against a real server: each SLO's objective, its
value over recorded runs, the error budget left and the burn rates, alerting pairs marked."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, start, wait_status

FLOW = {
    "name": "ui_order",
    "tasks": [{"name": "ui_charge", "taskReferenceName": "charge", "type": "SIMPLE"}],
}
SLOS = [
    {
        "name": "order-success",
        "workflow": "ui_order",
        "objective": {"success": {"target": 0.9}},
        "window": "30d",
        "description": "orders go through",
    },
    {
        "name": "charge-latency",
        "workflow": "ui_order",
        "step": "charge",
        "objective": {"latency": {"percentile": 95, "thresholdMs": 60000}},
        "window": "7d",
    },
]


def test_slos_page_shows_value_budget_and_burn(api, page):
    page, screens = page
    register(api, FLOW, [{"name": "ui_charge", "retryCount": 0}])
    assert api.post("/api/slos", json=SLOS).status_code == 200
    # Three runs complete, one fails: 75% against 90%, the budget of 10% spent 2.5 times.
    for status in ("COMPLETED", "COMPLETED", "FAILED", "COMPLETED"):
        run_id = start(api, "ui_order")
        [task] = poll(api, "ui_charge")
        assert complete(api, task, status=status).status_code == 200
        wait_status(api, run_id)

    base = page.url.split("#")[0]
    page.goto(base + "#/slos")
    expect(page.locator("nav a[data-nav=slos]")).to_have_class(re.compile("active"))

    success = page.locator("tr[data-slo=order-success]")
    expect(success).to_contain_text("workflow ui_order")
    expect(success).to_contain_text("90% succeed")
    expect(success.locator("[data-field=value]")).to_have_text("75%")
    expect(success).to_contain_text("3 good of 4")
    expect(success.locator("[data-field=budget]")).to_have_text("-150%")
    # 2.5x in every window: above the 3-day ticket's 1x over 3d and 6h, not the pages'.
    expect(success.locator("td[data-window='5m']")).to_have_text("2.5x")
    expect(success.locator("td.alerting")).to_have_count(2)
    expect(success.locator("td[data-window='3d']")).to_have_class(re.compile("alerting"))
    expect(success.locator("td[data-window='6h']")).to_have_class(re.compile("alerting"))

    latency = page.locator("tr[data-slo=charge-latency]")
    expect(latency).to_contain_text("step ui_order · charge")
    expect(latency).to_contain_text("p95 ≤ 60000 ms")
    expect(latency.locator("[data-field=value]")).to_have_text("100%")
    expect(latency.locator("[data-field=budget]")).to_have_text("100%")
    expect(latency.locator("td[data-window='1h']")).to_have_text("0x")
    screens.save("slos")
