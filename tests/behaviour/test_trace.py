"""The trace of one order in the hybrid example: an orchestrated workflow publishes
``order.shipped`` and two choreographed services react to it on their own."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from examples.events import services, workers
from podium.cli import app
from podium.client import PodiumClient
from podium.worker import WorkerRunner
from tests.behaviour.event_helpers import eventually
from tests.behaviour.helpers import complete, poll, register, start, wait_status

DEFINITIONS = json.loads(
    (Path(__file__).parents[2] / "examples" / "events" / "order_shipping.json").read_text()
)


def _order(api, server, order_id: str, customer: str, items=None) -> str:
    response = api.post(
        "/api/workflow/order_shipping",
        params={"correlationId": order_id},
        json={
            "orderId": order_id,
            "customer": customer,
            "total": 250,
            "items": items or [{"sku": "MUG-1"}],
        },
    )
    assert response.status_code == 200, response.text
    WorkerRunner(server.url, [workers.pack_order, workers.ship_order]).run(burst=True)
    return wait_status(api, response.text)["status"]


def _label_index(trace, kind: str, label: str) -> int:
    for i, node in enumerate(trace["nodes"]):
        if node["kind"] == kind and node["label"] == label:
            return i
    raise AssertionError(f"no {kind} {label!r} in {[n['label'] for n in trace['nodes']]}")


def test_the_trace_of_one_order_shows_workflow_event_and_both_services_in_causal_order(api, server):
    register(api, DEFINITIONS["workflows"][0], DEFINITIONS["taskDefs"])
    client = PodiumClient(server.url)
    consumers = [services.notification_service(client), services.loyalty_service(client)]
    for consumer in consumers:
        consumer.subscribe()
    assert _order(api, server, "order-1001", "ada") == "COMPLETED"
    for consumer in consumers:
        assert consumer.run_once() == 1

    trace = api.get("/api/trace/order-1001").json()
    assert trace["status"] == "COMPLETED", trace["problems"]
    assert trace["problems"] == [] and trace["stoppedAt"] is None
    nodes = {node["id"]: node for node in trace["nodes"]}
    at = {name: _label_index(trace, kind, name) for kind, name in [
        ("workflow", "order_shipping v1"),
        ("task", "pack (pack_order)"),
        ("task", "ship (ship_order)"),
        ("task", "announce (EVENT)"),
        ("event", "order.shipped"),
        ("delivery", "consumer notification"),
        ("delivery", "consumer loyalty"),
        ("event", "notification.sent"),
        ("event", "loyalty.points_awarded"),
    ]}  # fmt: skip
    assert at["order_shipping v1"] < at["pack (pack_order)"] < at["ship (ship_order)"]
    assert at["ship (ship_order)"] < at["announce (EVENT)"] < at["order.shipped"]
    assert at["order.shipped"] < at["consumer notification"] < at["notification.sent"]
    assert at["order.shipped"] < at["consumer loyalty"] < at["loyalty.points_awarded"]

    def parent(index: int) -> dict:
        return nodes[trace["nodes"][index]["parent"]]

    assert parent(at["order.shipped"])["label"] == "announce (EVENT)"
    assert parent(at["notification.sent"])["label"] == "consumer notification"
    assert parent(at["loyalty.points_awarded"])["label"] == "consumer loyalty"
    assert parent(at["consumer loyalty"])["label"] == "order.shipped"
    assert trace["roots"] == [trace["nodes"][0]["id"]]  # one transaction, one root
    assert {"warehouse", "shipping", "notification", "loyalty"} <= set(trace["services"])
    times = [entry["time"] for entry in trace["timeline"]]
    assert times == sorted(times)
    order = [entry["node"] for entry in trace["timeline"]]
    for cause, effect in (
        ("order.shipped", "notification.sent"),
        ("announce (EVENT)", "order.shipped"),
    ):
        assert order.index(trace["nodes"][at[cause]]["id"]) < order.index(
            trace["nodes"][at[effect]]["id"]
        )


def test_the_trace_names_the_service_that_failed_and_where_it_stopped(api, server):
    register(api, DEFINITIONS["workflows"][0], DEFINITIONS["taskDefs"])
    client = PodiumClient(server.url)
    loyalty = services.loyalty_service(client, max_attempts=2)
    notification = services.notification_service(client)
    loyalty.subscribe()
    notification.subscribe()
    assert _order(api, server, "order-666", "mallory") == "COMPLETED"
    notification.run_once()
    eventually(
        lambda: (
            loyalty.run_once() == 0
            and api.get("/api/events/dead-letters", params={"subscriber": "loyalty"}).json()
        ),
        what="loyalty's delivery to be dead-lettered",
    )
    trace = client.trace("order-666")
    assert trace["status"] == "FAILED"
    stopped = trace["stoppedAt"]
    assert stopped["kind"] == "dead_lettered"
    assert stopped["service"] == "loyalty"
    assert "blocked from the loyalty programme" in stopped["reason"]
    # The service is named once, by the trace, not again by the consumer's error.
    assert stopped["reason"].startswith("customer mallory")
    shown = CliRunner().invoke(app, ["trace", "order-666", "--server", server.url])
    assert "in service loyalty: customer mallory is blocked" in shown.output
    assert "loyalty: loyalty:" not in shown.output

    assert _order(api, server, "order-13", "bob", [{"sku": workers.OUT_OF_STOCK}]) == "FAILED"
    failed = client.trace("order-13")
    assert failed["status"] == "FAILED"
    assert failed["stoppedAt"]["kind"] == "failed"
    assert failed["stoppedAt"]["service"] == "warehouse"
    assert failed["stoppedAt"]["label"] == "pack (pack_order)"
    assert api.get("/api/trace/nobody").status_code == 404


SAGA = {
    "name": "trace_saga",
    "tasks": [
        {
            "name": "trace_reserve",
            "taskReferenceName": "reserve",
            "compensation": {"name": "trace_release"},
        },
        {"name": "trace_charge", "taskReferenceName": "charge"},
    ],
}
SAGA_TASKS = [
    {"name": n, "retryCount": 0} for n in ("trace_reserve", "trace_charge", "trace_release")
]


def _fail_saga(api, correlation_id: str) -> str:
    run_id = start(api, "trace_saga", correlationId=correlation_id)
    (reserve,) = poll(api, "trace_reserve")
    assert complete(api, reserve).status_code == 200
    (charge,) = poll(api, "trace_charge")
    assert complete(api, charge, status="FAILED", reason="card declined").status_code == 200
    assert wait_status(api, run_id, {"COMPENSATING"})["status"] == "COMPENSATING"
    return run_id


def test_a_failure_its_saga_undid_is_compensated_not_failed(api, server):
    register(api, SAGA, SAGA_TASKS)
    run_id = _fail_saga(api, "saga-1")
    undoing = api.get("/api/trace/saga-1").json()
    assert undoing["status"] == "COMPENSATING"
    (release,) = poll(api, "trace_release")
    assert complete(api, release).status_code == 200
    assert wait_status(api, run_id)["status"] == "COMPENSATED"
    trace = api.get("/api/trace/saga-1").json()
    assert trace["status"] == "COMPENSATED"
    # Where it stopped is still the step that failed.
    assert trace["stoppedAt"]["kind"] == "failed"
    assert trace["stoppedAt"]["label"] == "charge (trace_charge)"
    assert trace["stoppedAt"]["reason"].startswith("card declined")
    shown = CliRunner().invoke(app, ["trace", "saga-1", "--server", server.url])
    assert "COMPENSATED" in shown.output
    assert shown.exit_code == 1, "an undone transaction did not go through"

    # A compensation that fails leaves the transaction failed.
    other = _fail_saga(api, "saga-2")
    (release,) = poll(api, "trace_release")
    assert complete(api, release, status="FAILED", reason="db down").status_code == 200
    assert wait_status(api, other)["status"] == "COMPENSATION_FAILED"
    assert api.get("/api/trace/saga-2").json()["status"] == "FAILED"
