"""Operator actions from the run page against the real routes: skip a task, re-run from a
task."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, run, start

STEPS = {
    "name": "ui_steps",
    "tasks": [
        {"name": "ui_a", "taskReferenceName": "a"},
        {"name": "ui_b", "taskReferenceName": "b"},
        {"name": "ui_c", "taskReferenceName": "c"},
    ],
}


def _node(page, ref):
    return page.locator(f"#graph .node[data-ref='{ref}']")


def _work(api, task_type, output=None):
    (task,) = poll(api, task_type)
    assert complete(api, task, output or {}).status_code == 200
    return task


def test_skip_a_task_then_rerun_from_another_from_the_ui(api, page):
    page, screens = page
    register(api, STEPS, [{"name": n, "retryCount": 0} for n in ("ui_a", "ui_b", "ui_c")])
    run_id = start(api, "ui_steps", {"n": 1})
    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(_node(page, "a")).to_have_attribute("data-status", "SCHEDULED")

    _node(page, "a").click()
    page.click("#details button[data-action=skip]")
    expect(_node(page, "a")).to_have_attribute("data-status", "SKIPPED")
    expect(_node(page, "b")).to_have_attribute("data-status", "SCHEDULED")
    expect(page.locator("#notice")).to_have_text("Skip: done.")
    assert [t["status"] for t in run(api, run_id)["tasks"]] == ["SKIPPED", "SCHEDULED"]
    screens.save("skipped")

    _work(api, "ui_b", {"b": 1})
    _work(api, "ui_c", {"c": 1})
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPLETED")

    _node(page, "b").click()
    page.click("#details button[data-action=rerun]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
    expect(page.locator("#notice")).to_have_text("Re-run from this task: done.")
    expect(_node(page, "a")).to_have_attribute("data-status", "SKIPPED")
    expect(_node(page, "b")).to_have_attribute("data-status", "SCHEDULED")
    expect(_node(page, "c")).to_have_attribute("data-status", "NOT_STARTED")
    again = _work(api, "ui_b", {"b": 2})
    assert again["inputData"] == {}
    _work(api, "ui_c", {"c": 2})
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPLETED")
    screens.save("rerun")


def test_a_step_not_reached_yet_is_skipped_when_the_run_reaches_it(api, page):
    page, screens = page
    register(api, STEPS, [{"name": n, "retryCount": 0} for n in ("ui_a", "ui_b", "ui_c")])
    run_id = start(api, "ui_steps")
    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(_node(page, "a")).to_have_attribute("data-status", "SCHEDULED")
    # No re-run while the run is open.
    _node(page, "a").click()
    expect(page.locator("#details button[data-action=rerun]")).to_have_count(0)

    _node(page, "b").click()
    expect(page.locator("#details")).to_contain_text("Not scheduled yet.")
    page.click("#details button[data-action=skip]")
    expect(page.locator("#notice")).to_have_text("Skip: done.")
    screens.save("skip-ahead")
    _work(api, "ui_a")
    expect(_node(page, "b")).to_have_attribute("data-status", "SKIPPED")
    expect(_node(page, "c")).to_have_attribute("data-status", "SCHEDULED")
    _work(api, "ui_c")
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPLETED")
