""" "Retry matching" on the runs page: the dry-run list of the runs a filter picks, then the
retry of exactly those once confirmed."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, run, start, wait_status

FLOW = {"name": "ui_checkout", "tasks": [{"name": "ui_charge", "taskReferenceName": "c"}]}
SHIP = {"name": "ui_dispatch", "tasks": [{"name": "ui_ship", "taskReferenceName": "s"}]}


def _failed(api: httpx.Client, flow: str, task_type: str) -> str:
    run_id = start(api, flow)
    (task,) = poll(api, task_type)
    complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason=f"{task_type} broke")
    assert wait_status(api, run_id)["status"] == "FAILED"
    return run_id


def test_retry_matching_lists_then_retries_the_listed_runs(api, page):
    page, screens = page
    assert api.post("/api/services", json={"name": "payment", "owner": "Payments"}).is_success
    register(api, FLOW, [{"name": "ui_charge", "service": "payment"}])
    register(api, SHIP, [{"name": "ui_ship"}])
    charged = [_failed(api, "ui_checkout", "ui_charge") for _ in range(2)]
    shipped = _failed(api, "ui_dispatch", "ui_ship")
    page.goto(page.url.split("#")[0] + "#/runs")

    page.click("details.rerun > summary")
    page.select_option("details.rerun select[name=service]", "payment")
    page.click("button[data-action=list-matching]")
    rows = page.locator(".rerun-list tbody tr")
    expect(rows).to_have_count(2)
    assert {rows.nth(i).get_attribute("data-run") for i in range(2)} == set(charged)
    expect(page.locator(".rerun-list")).to_contain_text("ui_charge broke")
    screens.save("listed")
    assert all(run(api, run_id)["status"] == "FAILED" for run_id in charged)

    page.click("button[data-action=confirm-retry]")
    expect(page.locator(".rerun-summary")).to_have_text("Retried 2 of 2 runs.")
    screens.save("retried")
    assert [run(api, run_id)["status"] for run_id in charged] == ["RUNNING", "RUNNING"]
    assert run(api, shipped)["status"] == "FAILED"
