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


def _said(page, text: str) -> int:
    """How many times ``text`` is on the page, as the operator reads it."""
    return page.locator("body").inner_text().count(text)


def _work(api, task_type, output=None, **kwargs):
    (task,) = poll(api, task_type)
    response = complete(api, task, output or {}, **kwargs)
    assert response.status_code == 200, response.text
    return task


def test_a_failed_saga_compensates_and_shows_what_was_undone(api, page):
    page, screens = page
    register(api, SAGA, TASK_DEFS)
    run_id = start(api, "ui_saga", correlationId="saga-7")
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
    # The reason that began the undo is the run's: said once, in the failure box.
    expect(page.locator(".failure .why")).to_have_text(
        "task 'charge' (ui_charge) FAILED: card declined"
    )
    expect(record.locator("[data-field=reason]")).to_have_count(0)
    assert _said(page, "card declined") == 1
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
    # Ended, the run names the service to call on a line of its own, not again after the reason.
    expect(page.locator(".failure .blame")).to_contain_text("service warehouse")
    expect(page.locator(".failure .why")).to_have_text(
        "task 'charge' (ui_charge) FAILED: card declined"
    )
    assert _said(page, "card declined") == 1
    assert _said(page, "service warehouse") == 1
    # The failed step's details give its own error once, not again in its attempts.
    _node(page, "charge").click()
    expect(page.locator("#details .error")).to_contain_text("card declined")
    expect(page.locator("#details ol.attempts li")).to_have_count(1)
    expect(page.locator("#details ol.attempts")).not_to_contain_text("card declined")
    assert _said(page, "card declined") == 2

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

    # The transaction's trace says the failure was undone, and still where it stopped.
    page.goto(page.url.split("#")[0] + "#/trace/saga-7")
    summary = page.locator("#trace-summary")
    expect(summary).to_have_attribute("data-status", "COMPENSATED")
    expect(summary.locator(".status").first).to_have_text("COMPENSATED")
    expect(page.locator("#trace-stopped")).to_contain_text("Stopped at charge")
    expect(page.locator(f"#trace-timeline tr[data-node='run:{run_id}']")).to_have_attribute(
        "data-status", "COMPENSATED"
    )
    screens.save("trace-compensated")

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


def test_the_definition_graph_shows_each_steps_compensation(api, page):
    page, screens = page
    register(api, SAGA, TASK_DEFS)
    page.goto(page.url.split("#")[0] + "#/definition/ui_saga/1")
    undo = page.locator("#graph .node.compensation")
    expect(undo).to_have_count(1)  # only reserve declares one
    expect(undo).to_have_attribute("data-compensates", "reserve")
    expect(undo).to_have_attribute("data-ref", "reserve__compensate")
    expect(undo.locator("text.ref")).to_have_text("↺ ui_release")
    expect(undo.locator("title")).to_contain_text("undo reserve if the run fails")
    expect(page.locator("#graph path.edge.undo[data-compensates=reserve]")).to_have_count(1)
    expect(page.locator("#graph-legend")).to_contain_text("compensation")
    # The step stays on the sequence's axis, its compensation to its right.
    reserve = _node(page, "reserve").locator("rect").first.bounding_box()
    notify = _node(page, "notify").locator("rect").first.bounding_box()
    side = undo.locator("rect").bounding_box()
    assert abs((reserve["x"] + reserve["width"] / 2) - (notify["x"] + notify["width"] / 2)) < 1
    assert side["x"] > reserve["x"] + reserve["width"]
    screens.save("definition")

    # A workflow without compensations has no such marks and no legend.
    register(api, {"name": "ui_plain", "tasks": [SAGA["tasks"][1]]}, TASK_DEFS)
    page.goto(page.url.split("#")[0] + "#/definition/ui_plain/1")
    expect(_node(page, "notify")).to_have_count(1)
    expect(page.locator("#graph .node.compensation")).to_have_count(0)
    expect(page.locator("#graph-legend")).to_have_count(0)


def test_the_graph_draws_compensations_at_every_depth(api, page):
    page, screens = page

    def undoable(ref):
        return {
            "name": "ui_reserve",
            "taskReferenceName": ref,
            "compensation": {"name": "ui_release"},
        }

    nested = {
        "name": "ui_nested_saga",
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN",
                "forkTasks": [[undoable("in_branch")], [{"name": "ui_notify", "taskReferenceName": "n"}]],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["in_branch", "n"]},
            {
                "name": "again",
                "taskReferenceName": "again",
                "type": "DO_WHILE",
                "loopCondition": "false",
                "loopOver": [undoable("in_loop")],
                "compensation": {"name": "ui_release"},
            },
            {
                "name": "route",
                "taskReferenceName": "route",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "kind",
                "inputParameters": {"kind": "${workflow.input.kind}"},
                "decisionCases": {"a": [undoable("in_case")]},
                "defaultCase": [undoable("in_default")],
            },
        ],
    }  # fmt: skip
    register(api, nested, TASK_DEFS)
    page.goto(page.url.split("#")[0] + "#/definitions")
    page.click("tr[data-definition=ui_nested_saga] a")
    for ref in ("in_branch", "again", "in_loop", "in_case", "in_default"):
        expect(page.locator(f"#graph .node.compensation[data-compensates='{ref}']")).to_have_count(
            1
        )
    expect(page.locator("#graph .node.compensation")).to_have_count(5)
    screens.save("nested-compensations")
