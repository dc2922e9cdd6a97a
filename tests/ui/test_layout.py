"""What the pages must show whole: long names and statuses in the graph, what the timeline's
marks mean, and every main page at phone width without scrolling sideways."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, start, wait_status
from tests.ui.test_ui import ORDER, SERVICES, TASK_DEFS

LONG_REF = "reserve_inventory_in_the_north_warehouse_for_this_customer"
LONG = {
    "name": "ui_long_labels",
    "tasks": [
        {"name": "ui_long_step", "taskReferenceName": LONG_REF, "type": "SIMPLE"},
        {"name": "ui_after", "taskReferenceName": "after", "type": "SIMPLE"},
    ],
}

# Every text line of a node lies inside its box.
_TEXT_INSIDE = """node => {
  const box = node.querySelector('rect').getBBox();
  return [...node.querySelectorAll(':scope > text')].every(t => {
    const b = t.getBBox();
    return b.x >= box.x - 0.5 && b.x + b.width <= box.x + box.width + 0.5
      && b.y >= box.y - 0.5 && b.y + b.height <= box.y + box.height + 0.5;
  });
}"""


def test_long_labels_are_shown_whole_and_the_queue_wait_is_explained(api, page):
    page, screens = page
    register(api, LONG, [{"name": n, "retryCount": 0} for n in ("ui_long_step", "ui_after")])
    run_id = start(api, "ui_long_labels")
    (task,) = poll(api, "ui_long_step")
    assert complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="no").status_code == 200
    assert wait_status(api, run_id)["status"] == "FAILED"

    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    node = page.locator(f"#graph .node[data-ref='{LONG_REF}']")
    expect(node).to_have_attribute("data-status", "FAILED_WITH_TERMINAL_ERROR")
    # The whole reference and the whole status, in the node (wrapped if need be) and its title.
    lines = node.locator(":scope > text")
    shown = "".join(lines.all_text_contents())
    assert "…" not in shown, shown
    assert shown.replace(" ", "") == f"{LONG_REF}SIMPLE·FAILED_WITH_TERMINAL_ERROR", shown
    expect(node.locator("title")).to_contain_text(LONG_REF)
    expect(node.locator("title")).to_contain_text("FAILED_WITH_TERMINAL_ERROR")
    assert node.evaluate(_TEXT_INSIDE)
    assert page.locator("#graph .node").evaluate_all(f"nodes => nodes.every({_TEXT_INSIDE})")
    expect(page.locator("#timeline .lane-name").first).to_have_attribute("title", LONG_REF)

    # The hatched part of a lane is the time a task waited in its queue; the legend says so.
    queued = page.locator("#timeline .lane .bar.queued")
    expect(queued).to_have_count(1)
    legend = page.locator("#timeline-legend")
    expect(legend.locator(".bar.queued")).to_have_count(1)
    expect(legend).to_contain_text("waiting in the queue")
    expect(legend).to_contain_text("in the colour of its status")
    hatch = "e => getComputedStyle(e).backgroundImage"
    assert legend.locator(".bar.queued").evaluate(hatch) == queued.evaluate(hatch)
    # A long name makes no page wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    screens.save("long-labels")


def _fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        f"""[...document.querySelectorAll('body *')].filter(e => {{
          const r = e.getBoundingClientRect();
          return r.right > {width} + 0.5 && !e.closest('.graph-box, table');
        }}).slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    assert scroll <= width, (page.url, scroll, wide)


def test_every_main_page_fits_a_phone_width_screen(api, page):
    page, screens = page
    assert api.post("/api/services", json=SERVICES).status_code == 200
    register(api, ORDER, TASK_DEFS)
    run_id = start(api, "ui_order", correlationId="narrow-order-with-a-long-correlation-id-1")
    (reserve,) = poll(api, "reserve")
    complete(api, reserve, {"kind": "ship"})
    (charge,) = poll(api, "charge")
    complete(api, charge, status="FAILED", reason="card network unreachable " * 4)
    assert wait_status(api, run_id)["status"] == "FAILED"
    base = page.url.split("#")[0]
    page.set_viewport_size({"width": 400, "height": 800})

    page.goto(base + "#/runs")
    expect(page.locator("table.runs tbody tr[data-run]")).to_have_count(1)
    _fits(page, 400)
    screens.save("runs")

    page.goto(base + f"#/run/{run_id}")
    expect(page.locator("section.run")).to_have_attribute("data-status", "FAILED")
    expect(page.locator("#graph .node[data-ref=charge]")).to_have_attribute("data-status", "FAILED")
    page.locator("table.tasks tr[data-ref=charge]").click()
    expect(page.locator("#details .error")).to_contain_text("card network unreachable")
    _fits(page, 400)
    # A wide table scrolls inside itself rather than widening the page.
    scrolls = """t => [t, t.parentElement].some(e => e.scrollWidth > e.clientWidth
      && getComputedStyle(e).overflowX === 'auto')"""
    assert page.locator("table.tasks").evaluate(scrolls)
    screens.save("run")

    page.goto(base + "#/definitions")
    expect(page.locator("tr[data-definition=ui_order]")).to_have_count(1)
    _fits(page, 400)

    page.goto(base + "#/definition/ui_order/1")
    expect(page.locator("#graph .node")).to_have_count(8)
    _fits(page, 400)
    screens.save("definition")

    page.goto(base + "#/services")
    expect(page.locator("tr[data-service=payments]")).to_contain_text("CLOSED")
    _fits(page, 400)
    screens.save("services")

    nightly = {
        "name": "narrow-nightly-schedule-with-a-long-name",
        "cronExpression": "0 30 2 ? * MON-FRI",
        "zoneId": "America/Argentina/Buenos_Aires",
        "jitterSeconds": 30,
        "startWorkflowRequest": {"name": "ui_order"},
    }
    assert api.post("/api/scheduler/schedules", json=nightly).status_code == 200
    page.goto(base + "#/schedules")
    expect(page.locator(f"tr[data-schedule={nightly['name']}] ul.next-times li")).to_have_count(3)
    _fits(page, 400)
    screens.save("schedules")

    page.goto(base + "#/trace/narrow-order-with-a-long-correlation-id-1")
    expect(page.locator("#trace-summary")).to_have_attribute("data-status", "FAILED")
    expect(page.locator("#trace-timeline tbody tr").first).to_be_visible()
    _fits(page, 400)
    screens.save("trace")
