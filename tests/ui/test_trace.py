"""The correlation trace page against ``GET /api/trace/{correlationId}``: a run publishes an
event, a handler starts a second run from it, and that run fails in another service."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.behaviour.helpers import complete, poll, register, start, wait_status

SHOP = {
    "name": "ui_shop",
    "tasks": [
        {
            "name": "announce",
            "taskReferenceName": "announce",
            "type": "EVENT",
            "sink": "conductor:ui.order.placed",
            "inputParameters": {"orderId": "${workflow.input.orderId}"},
        },
        {"name": "ui_pack", "taskReferenceName": "pack", "type": "SIMPLE"},
    ],
}
INVOICE = {
    "name": "ui_invoice",
    "tasks": [{"name": "ui_bill", "taskReferenceName": "bill", "type": "SIMPLE"}],
}
HANDLER = {
    "name": "ui_invoice_on_order",
    "event": "conductor:ui.order.placed",
    "actions": [
        {
            "action": "start_workflow",
            "start_workflow": {"name": "ui_invoice", "input": {"orderId": "${orderId}"}},
        }
    ],
    "active": True,
}


def test_trace_follows_a_run_its_event_and_the_run_a_handler_started(api, page):
    page, screens = page
    assert api.post("/api/services", json=[{"name": "billing", "owner": "Finance"}]).is_success
    register(api, SHOP, [{"name": "ui_pack", "retryCount": 0, "service": "warehouse"}])
    register(api, INVOICE, [{"name": "ui_bill", "retryCount": 0, "service": "billing"}])
    response = api.post("/api/event", json=HANDLER)
    assert response.is_success, response.text
    shop = start(api, "ui_shop", {"orderId": "o-1"}, correlationId="shop-1")
    noted = api.post(
        "/api/events/ui.order.noted",
        json={"payload": {"orderId": "o-1"}, "correlationId": "shop-1", "source": "crm"},
    )
    assert noted.is_success, noted.text
    (pack,) = poll(api, "ui_pack")
    assert complete(api, pack, {"box": 3}).status_code == 200
    assert wait_status(api, shop)["status"] == "COMPLETED"
    # The handler started the invoice run; its worker fails it.
    (bill,) = poll(api, "ui_bill", timeout_ms=10_000)
    invoice = bill["workflowInstanceId"]
    complete(api, bill, status="FAILED", reason="ledger locked")
    assert wait_status(api, invoice)["status"] == "FAILED"

    page.goto(page.url.split("#")[0] + "#/trace/shop-1")
    summary = page.locator("#trace-summary")
    expect(summary).to_have_attribute("data-status", "FAILED")
    expect(page.locator("#trace-message")).to_have_text(
        "shop-1: 2 run(s), 3 task(s), 2 event(s), 1 delivery(ies)."
    )
    # Where it stopped, and which service failed.
    stopped = page.locator("#trace-stopped")
    expect(stopped).to_contain_text("Stopped at bill")
    expect(stopped.locator(".culprit")).to_have_text("billing")
    expect(stopped).to_contain_text("ledger locked")
    expect(stopped.locator("a")).to_have_attribute("href", f"#/run/{invoice}")
    expect(summary.locator(".service-name")).to_contain_text(["billing", "crm", "ui_shop"])
    expect(page.locator("#trace-problems li[data-kind=failed]")).to_have_count(2)

    # The timeline: every run, task, event and delivery, in order.
    rows = page.locator("#trace-timeline tbody tr")
    expect(rows).to_have_count(8)
    kinds = rows.evaluate_all("rows => rows.map(r => r.dataset.kind + ':' + r.dataset.node)")
    order = [k.split(":")[0] for k in kinds]
    assert order.count("workflow") == 2 and order.count("event") == 2, kinds
    assert order.count("delivery") == 1 and order.count("task") == 3, kinds
    assert kinds.index(f"workflow:run:{shop}") < kinds.index(f"workflow:run:{invoice}"), kinds
    placed = next(k for k in kinds if k.startswith("event:") and "ui.order.noted" not in k)
    delivery = next(k for k in kinds if k.startswith("delivery:"))
    assert kinds.index(placed) < kinds.index(delivery) < kinds.index(f"workflow:run:{invoice}")
    bill_row = page.locator("#trace-timeline tr[data-kind=task]").filter(has_text="ledger locked")
    expect(bill_row).to_have_class("flagged")
    expect(bill_row).to_contain_text("billing")
    expect(rows.filter(has_text="handler ui_invoice_on_order")).to_have_attribute(
        "data-status", "DONE"
    )

    # The causal tree: run -> EVENT task -> event -> delivery -> the run it started -> its task.
    chain = page.locator(
        f"#trace-tree li[data-node='run:{shop}'] li[data-kind=task]"
        " li[data-kind=event] li[data-kind=delivery]"
        f" li[data-node='run:{invoice}'] li[data-kind=task]"
    )
    expect(chain).to_have_count(1)
    expect(chain).to_have_class("flagged")
    expect(chain.locator(".relation").first).to_have_text("ran")
    expect(
        page.locator(f"#trace-tree li[data-node='run:{invoice}'] > .tree-node .relation")
    ).to_have_text("started")
    # The event published from outside is a root of its own.
    expect(page.locator("#trace-tree > ul.tree > li")).to_have_count(2)
    screens.save("trace")

    page.locator(f"#trace-timeline tr[data-node='run:{invoice}'] a").click()
    expect(page.locator("section.run")).to_have_attribute("data-status", "FAILED")
    expect(page.locator(".failure")).to_contain_text("Finance")


def test_trace_of_an_unknown_correlation_id_says_so(page):
    page, _ = page
    page.goto(page.url.split("#")[0] + "#/trace/nobody-here")
    expect(page.locator("#trace-message")).to_have_text(
        "No run or event carries the correlation id nobody-here."
    )
    expect(page.locator("#trace-summary")).to_be_hidden()


def test_a_run_without_a_correlation_id_links_to_its_trace_by_its_id(api, page):
    page, _ = page
    register(api, INVOICE)
    run_id = start(api, "ui_invoice")
    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(page.locator(".ids")).to_contain_text("Correlation id— (trace)")
    page.locator(".ids a", has_text="(trace)").click()
    expect(page.locator("#trace-message")).to_contain_text(f"{run_id}: 1 run(s), 1 task(s)")
