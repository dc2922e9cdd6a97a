"""The Schedules page in real headless Chromium against a real server: each schedule's
timing in its zone, its next ticks, its last runs linking to them, pause and resume."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.behaviour.helpers import register

FLOW = {
    "name": "ui_tick",
    "tasks": [{"name": "tick_work", "taskReferenceName": "work", "type": "SIMPLE"}],
}


def _save(api, body):
    response = api.post("/api/scheduler/schedules", json=body)
    assert response.status_code in (200, 204), response.text


def test_schedules_page_lists_runs_and_pauses(api, page):
    page, screens = page
    register(api, FLOW, [{"name": "tick_work", "retryCount": 0}])
    _save(
        api,
        {
            "name": "every-second",
            "intervalSeconds": 1,
            "overlapPolicy": "ALLOW_ALL",
            "startWorkflowRequest": {"name": "ui_tick", "version": 1},
        },
    )
    _save(
        api,
        {
            "name": "berlin-nightly",
            "cronExpression": "0 30 2 * * ?",
            "zoneId": "Europe/Berlin",
            "catchupPolicy": "LATEST",
            "catchupWindowSeconds": 3600,
            "jitterSeconds": 30,
            "pauseAfterFailures": 3,
            "startWorkflowRequest": {"name": "ui_tick", "version": 1},
        },
    )
    assert (
        api.put(
            "/api/scheduler/schedules/berlin-nightly/pause", params={"reason": "warehouse move"}
        ).status_code
        < 300
    )
    base = page.url.split("#")[0]
    page.goto(base + "#/schedules")
    expect(page.locator("nav a[data-nav=schedules]")).to_have_class(re.compile("active"))

    nightly = page.locator("tr[data-schedule=berlin-nightly]")
    expect(nightly).to_have_attribute("data-paused", "true")
    expect(nightly).to_contain_text("0 30 2 * * ?")
    expect(nightly).to_contain_text("Europe/Berlin")
    expect(nightly).to_contain_text("warehouse move")
    expect(nightly).to_contain_text("LATEST within 1 h")
    expect(nightly).to_contain_text("3 failures")
    expect(nightly.locator("button[data-action=resume]")).to_be_visible()

    ticking = page.locator("tr[data-schedule=every-second]")
    expect(ticking).to_have_attribute("data-paused", "false")
    expect(ticking).to_contain_text("every 1 s")
    expect(ticking.locator("ul.next-times li")).to_have_count(3)
    # A tick's run shows up, with its status, linking to the run.
    run_link = ticking.locator("ul.last-runs a").first
    expect(run_link).to_be_visible(timeout=20_000)
    href = run_link.get_attribute("href")
    assert href and href.startswith("#/run/")
    screens.save("listed")

    ticking.locator("button[data-action=pause]").click()
    expect(ticking).to_have_attribute("data-paused", "true")
    expect(ticking).to_contain_text("paused from the UI")
    assert api.get("/api/scheduler/schedules/every-second").json()["paused"] is True
    screens.save("paused")

    nightly.locator("button[data-action=resume]").click()
    expect(nightly).to_have_attribute("data-paused", "false")
    assert api.get("/api/scheduler/schedules/berlin-nightly").json()["paused"] is False
    # Resumed, its next ticks are shown as Berlin reads them.
    expect(nightly.locator("ul.next-times li").first).to_contain_text(
        re.compile(r"02:30:00 (CET|CEST|GMT\+1|GMT\+2)")
    )

    page.goto(base + href)
    expect(page.locator("section.run")).to_be_visible()
    # The run names the schedule that started it.
    expect(page.locator("section.run dl.ids")).to_contain_text("every-second tick of")
