"""Sagas on the run page: a run that fails and ends COMPENSATED with its compensation record,
and a run terminated with the compensate option."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, start, wait_status

SAGA = {
    "name": "ui_saga",
    "tasks": [
        {
            "name": "ui_reserve",
            "taskReferenceName": "reserve",
            "compensation": {
                "name": "ui_release",
                "inputParameters": {"reservationId": "${reserve.output.reservationId}"},
            },
        },
        {"name": "ui_notify", "taskReferenceName": "notify"},
        {"name": "ui_charge", "taskReferenceName": "charge"},
    ],
}
TASK_DEFS = [
    {"name": name, "retryCount": 0, "service": "warehouse"}
    for name in ("ui_reserve", "ui_notify", "ui_charge", "ui_release")
]


def _node(page, ref):
    return page.locator(f"#graph .node[data-ref='{ref}']")


def _work(api, task_type, output=None, **kwargs):
    (task,) = poll(api, task_type)
    response = complete(api, task, output or {}, **kwargs)
    assert response.status_code == 200, response.text
    return task


def test_a_failed_saga_compensates_and_shows_what_was_undone(api, page):
    page, screens = page
    register(api, SAGA, TASK_DEFS)
    run_id = start(api, "ui_saga")
    _work(api, "ui_reserve", {"reservationId": "R-1"})
    _work(api, "ui_notify")
    _work(api, "ui_charge", status="FAILED", reason="card declined")
    assert wait_status(api, run_id, {"COMPENSATING"})["status"] == "COMPENSATING"

    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    run = page.locator("section.run")
    expect(run).to_have_attribute("data-status", "COMPENSATING")
    expect(run.locator("h1 .status")).to_have_class("status s-COMPENSATING")
    record = page.locator("#compensation")
    expect(record.locator("[data-field=trigger]")).to_have_text("FAILED")
    expect(record.locator("[data-field=reason]")).to_contain_text("card declined")
    expect(record.locator("[data-field=notCompensated]")).to_have_text("notify")
    step = record.locator("tr[data-step=reserve]")
    expect(step).to_have_attribute("data-status", "SCHEDULED")
    # An active saga may still be terminated, but not paused or retried.
    expect(page.locator(".actions button")).to_have_text(["Terminate"])
    screens.save("compensating")

    release = _work(api, "ui_release", {"released": True})
    assert release["inputData"] == {"reservationId": "R-1"}
    expect(run).to_have_attribute("data-status", "COMPENSATED")
    expect(step).to_have_attribute("data-status", "COMPLETED")
    cells = step.locator("td")
    expect(cells.nth(1)).to_have_text("reserve")
    expect(cells.nth(2)).to_contain_text("reserve__compensate")
    expect(cells.nth(2)).to_contain_text("ui_release")
    expect(cells.nth(4)).to_have_text("1")
    expect(cells.nth(5)).to_have_text(f"{run_id}:compensate:reserve")
    expect(cells.nth(6)).to_have_text('{"released":true}')
    expect(page.locator(".failure")).to_contain_text("card declined")
    expect(page.locator(".actions button")).to_have_text(["Restart"])

    # The graph marks the undone step; the compensation task has a lane and a row of its own.
    expect(_node(page, "reserve")).to_have_attribute("data-status", "COMPLETED")
    expect(_node(page, "reserve")).to_have_attribute("data-compensation", "COMPLETED")
    expect(_node(page, "notify")).not_to_have_attribute("data-compensation", "COMPLETED")
    expect(_node(page, "charge")).to_have_attribute("data-status", "FAILED")
    expect(page.locator("#timeline .lane.compensation")).to_have_attribute(
        "data-ref", "reserve__compensate"
    )
    expect(page.locator("table.tasks tr.compensation")).to_have_attribute(
        "data-ref", "reserve__compensate"
    )
    _node(page, "reserve").click()
    expect(page.locator("#details .undo-link")).to_contain_text("Undone by reserve__compensate")
    page.click("#details .undo-link a")
    expect(page.locator("#details h2")).to_contain_text("reserve__compensate")
    expect(page.locator("#details .undo-link")).to_contain_text(
        f"Undoes reserve · idempotency key {run_id}:compensate:reserve"
    )
    stray = "d => [...d.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim()).length"
    assert page.locator("#details").evaluate(stray) == 0
    screens.save("compensated")

    # The runs list filters and colours by the saga statuses.
    page.goto(page.url.split("#")[0] + "#/runs?status=COMPENSATED")
    rows = page.locator("table.runs tbody tr[data-run]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-run", run_id)
    expect(rows.first.locator(".status")).to_have_class("status s-COMPENSATED")
    page.select_option("select[name=status]", "COMPENSATION_FAILED")
    expect(page.locator("table.runs tbody")).to_contain_text("No runs match.")
    page.select_option("select[name=status]", "COMPENSATING")
    expect(page.locator("table.runs tbody")).to_contain_text("No runs match.")
    screens.save("filtered")


def test_terminate_with_compensate_undoes_completed_steps(api, page):
    page, screens = page
    register(api, SAGA, TASK_DEFS)
    run_id = start(api, "ui_saga")
    _work(api, "ui_reserve", {"reservationId": "R-2"})

    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(_node(page, "notify")).to_have_attribute("data-status", "SCHEDULED")
    page.check(".actions input[name=compensate]")
    page.click("button[data-action=terminate]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPENSATING")
    expect(page.locator("#compensation tr[data-step=reserve]")).to_have_count(1)
    _work(api, "ui_release", {"released": True})
    expect(page.locator("section.run")).to_have_attribute(
        "data-status", wait_status(api, run_id)["status"]
    )
    expect(_node(page, "reserve")).to_have_attribute("data-compensation", "COMPLETED")
    expect(_node(page, "notify")).to_have_attribute("data-status", "CANCELED")
    screens.save("terminated-compensated")

    # An ended saga starts again from the beginning.
    page.click("button[data-action=restart]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
    expect(_node(page, "reserve")).to_have_attribute("data-status", "SCHEDULED")
    expect(_node(page, "reserve")).not_to_have_attribute("data-compensation", "COMPLETED")


def test_a_compensation_that_fails_is_shown_and_resumed_by_retry(api, page):
    page, screens = page
    register(api, SAGA, TASK_DEFS)
    run_id = start(api, "ui_saga")
    _work(api, "ui_reserve", {"reservationId": "R-3"})
    _work(api, "ui_notify")
    _work(api, "ui_charge", status="FAILED", reason="card declined")
    first = _work(api, "ui_release", status="FAILED", reason="inventory db down")
    assert wait_status(api, run_id)["status"] == "COMPENSATION_FAILED"

    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPENSATION_FAILED")
    step = page.locator("#compensation tr[data-step=reserve]")
    expect(step).to_have_attribute("data-status", "FAILED")
    expect(step.locator("td .error")).to_have_text("inventory db down")
    expect(_node(page, "reserve")).to_have_attribute("data-compensation", "FAILED")
    expect(page.locator(".failure")).to_contain_text("inventory db down")
    screens.save("compensation-failed")

    page.click("button[data-action=retry]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPENSATING")
    again = _work(api, "ui_release", {"released": True})
    assert again["inputData"] == first["inputData"] == {"reservationId": "R-3"}
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPENSATED")
    expect(step).to_have_attribute("data-status", "COMPLETED")
    expect(step.locator("td").nth(4)).to_have_text("2")
    screens.save("compensation-resumed")
