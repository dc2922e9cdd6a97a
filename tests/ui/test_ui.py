"""The web UI in real headless Chromium: runs list, a run watched to the end, retry, the
definition graph, services, signals and the trace view."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, start, wait_status

ORDER = {
    "name": "ui_order",
    "tasks": [
        {"name": "reserve", "taskReferenceName": "reserve", "type": "SIMPLE"},
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [
                [{"name": "charge", "taskReferenceName": "charge", "type": "SIMPLE"}],
                [{"name": "email", "taskReferenceName": "email", "type": "SIMPLE"}],
            ],
        },
        {
            "name": "join",
            "taskReferenceName": "join",
            "type": "JOIN",
            "joinOn": ["charge", "email"],
        },
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "kind",
            "inputParameters": {"kind": "${reserve.output.kind}"},
            "decisionCases": {
                "ship": [{"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"}]
            },
            "defaultCase": [{"name": "collect", "taskReferenceName": "collect", "type": "SIMPLE"}],
        },
    ],
}
TASK_DEFS = [
    {"name": name, "retryCount": 0, "service": "warehouse" if name != "charge" else "payments"}
    for name in ("reserve", "charge", "email", "ship", "collect")
]
SERVICES = [
    {"name": "warehouse", "owner": "Fulfilment", "contact": "#fulfilment"},
    {
        "name": "payments",
        "owner": "Payments team",
        "contact": "payments@example.com",
        "onCall": "pager:payments",
        "circuitBreaker": {"failureThreshold": 5, "openSeconds": 30},
    },
]


def _setup(api) -> None:
    assert api.post("/api/services", json=SERVICES).status_code == 200
    register(api, ORDER, TASK_DEFS)


def _node(page, ref):
    return page.locator(f"#graph .node[data-ref='{ref}']")


def _work(api, task_type, output=None, **kwargs):
    (task,) = poll(api, task_type)
    response = complete(api, task, output or {}, **kwargs)
    assert response.status_code == 200, response.text
    return task


def test_runs_list_then_a_run_watched_until_it_finishes(api, page):
    page, screens = page
    _setup(api)
    other = start(api, "ui_order", correlationId="other-1")
    api.delete(f"/api/workflow/{other}")
    run_id = start(api, "ui_order", correlationId="order-42")

    page.goto(page.url.split("#")[0] + "#/runs")
    rows = page.locator("table.runs tbody tr[data-run]")
    expect(rows).to_have_count(2)
    page.select_option("select[name=status]", "RUNNING")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-run", run_id)
    page.fill("input[name=q]", "order-42")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    screens.save("runs-list")

    rows.first.locator("a.mono").click()
    expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
    expect(_node(page, "reserve")).to_have_attribute("data-status", "SCHEDULED")
    expect(_node(page, "charge")).to_have_attribute("data-status", "NOT_STARTED")
    expect(page.locator(".ids")).to_contain_text("order-42")
    expect(page.locator(".actions")).to_have_text(
        re.compile(r"^\s*Pause\s*Terminate\s*and compensate\s*$")
    )
    screens.save("run-started")

    # A worker takes the steps one by one; the page follows without being reloaded.
    _work(api, "reserve", {"kind": "ship"})
    expect(_node(page, "reserve")).to_have_attribute("data-status", "COMPLETED")
    expect(_node(page, "charge")).to_have_attribute("data-status", "SCHEDULED")
    (charge,) = poll(api, "charge")
    expect(_node(page, "charge")).to_have_attribute("data-status", "IN_PROGRESS")
    screens.save("run-in-progress")
    complete(api, charge, {"paid": 10})
    _work(api, "email")
    _work(api, "ship", {"tracking": "T-42"})
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPLETED")
    for ref in ("reserve", "charge", "email", "join", "route", "ship"):
        expect(_node(page, ref)).to_have_attribute("data-status", "COMPLETED")
    expect(_node(page, "collect")).to_have_attribute("data-status", "NOT_STARTED")
    expect(page.locator("#timeline .lane")).to_have_count(7)

    _node(page, "ship").click()
    details = page.locator("#details")
    expect(details).to_contain_text("T-42")
    expect(details).to_contain_text("warehouse")
    expect(details).to_contain_text("#fulfilment")
    screens.save("run-completed")


def test_a_failed_run_names_whom_to_call_and_is_retried_from_the_ui(api, page):
    page, screens = page
    _setup(api)
    run_id = start(api, "ui_order")
    _work(api, "reserve", {"kind": "ship"})
    _work(api, "email")
    _work(api, "charge", status="FAILED", reason="card network unreachable")
    assert wait_status(api, run_id)["status"] == "FAILED"

    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(page.locator("section.run")).to_have_attribute("data-status", "FAILED")
    failure = page.locator(".failure")
    expect(failure).to_contain_text("card network unreachable")
    expect(failure).to_contain_text("Payments team")
    expect(failure).to_contain_text("payments@example.com")
    expect(_node(page, "charge")).to_have_attribute("data-status", "FAILED")
    _node(page, "charge").click()
    expect(page.locator("#details .error")).to_contain_text("card network unreachable")
    screens.save("run-failed")

    page.click("button[data-action=retry]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
    expect(_node(page, "charge")).to_have_attribute("data-status", "SCHEDULED")
    _work(api, "charge", {"paid": 10})
    _work(api, "ship")
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPLETED")
    expect(page.locator("#details ol.attempts li")).to_have_count(2)
    screens.save("run-retried")


def test_signal_pause_and_resume_from_the_run_page(api, page):
    page, screens = page
    flow = {
        "name": "ui_approval",
        "tasks": [
            {"name": "approve", "taskReferenceName": "approve", "type": "HUMAN"},
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 2",
                "loopOver": [{"name": "tick", "taskReferenceName": "tick", "type": "NOOP"}],
            },
        ],
    }
    register(api, flow)
    run_id = start(api, "ui_approval")
    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
    page.click("button[data-action=pause]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "PAUSED")
    page.click("button[data-action=resume]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")

    _node(page, "approve").click()
    page.fill("#details textarea", '{"approved": true, "by": "ada"}')
    screens.save("human-task")
    page.click("#details button[data-action=signal]")
    expect(page.locator("section.run")).to_have_attribute("data-status", "COMPLETED")
    expect(_node(page, "tick")).to_have_attribute("data-status", "COMPLETED")
    assert wait_status(api, run_id)["tasks"][0]["outputData"] == {"approved": True, "by": "ada"}
    screens.save("human-task-done")


def test_definitions_services_and_trace_views(api, page):
    page, screens = page
    _setup(api)
    start(api, "ui_order", correlationId="cart-7")
    base = page.url.split("#")[0]

    page.goto(base + "#/definitions")
    page.click("tr[data-definition=ui_order] a")
    expect(page.locator("#graph .node")).to_have_count(8)
    expect(page.locator("#graph .node[data-type=FORK_JOIN]")).to_have_count(1)
    expect(page.locator("#graph .node[data-type=SWITCH]")).to_have_count(1)
    expect(page.locator("#graph text.case")).to_have_count(2)
    screens.save("definition")

    page.goto(base + "#/services")
    expect(page.locator("tr[data-service=payments]")).to_contain_text("CLOSED")
    expect(page.locator("tr[data-service=payments]")).to_contain_text("pager:payments")
    expect(page.locator("tr[data-service=warehouse]")).to_contain_text("none")
    screens.save("services")

    page.goto(base + "#/trace/cart-7")
    expect(page.locator("#trace-message")).to_have_text(re.compile(r"^cart-7: 1 run\(s\)"))
    expect(page.locator("#trace-runs tbody tr")).to_have_count(1)
    expect(page.locator("#trace-summary")).to_have_attribute("data-status", "IN_PROGRESS")
    expect(page.locator("#trace-stopped")).to_contain_text("Waiting at reserve")
    screens.save("trace")
