"""The event bus through the API: publish, handlers and their actions, de-duplication,
dead letters and replay, pull subscriptions, EVENT tasks and WAIT-for-event."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.behaviour.event_helpers import add_handler, event, eventually, publish, settled
from tests.behaviour.helpers import poll, register, run, start, task_of, wait_status
from tests.conftest import StoreChoice


@pytest.fixture
def fast_api(store_choice: StoreChoice) -> Iterator[httpx.Client]:
    """A server whose failed deliveries are retried after 50 ms (then 100, 200...)."""
    with store_choice.server(sweep_interval_s=0.2, event_retry_base_ms=50) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client


NOTIFY = {
    "name": "notify",
    "tasks": [
        {
            "name": "send_note",
            "taskReferenceName": "send",
            "inputParameters": {"orderId": "${workflow.input.orderId}"},
        }
    ],
}

WAITER = {
    "name": "waiter",
    "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
}


def _runs_of(api: httpx.Client, name: str) -> list[dict]:
    body = api.get("/api/workflow/search", params={"name": name}).json()
    return body["results"]


def test_a_handler_starts_a_workflow_when_its_condition_holds(api):
    register(api, NOTIFY)
    add_handler(
        api,
        {
            "name": "big_orders",
            "event": "conductor:order.created",
            "condition": "$.amount > 10",
            "actions": [
                {
                    "action": "start_workflow",
                    "start_workflow": {"name": "notify", "input": {"orderId": "${orderId}"}},
                }
            ],
        },
    )
    small = publish(api, "order.created", {"orderId": "o-1", "amount": 5}, correlationId="c-1")
    big = publish(api, "order.created", {"orderId": "o-2", "amount": 50}, correlationId="c-2")
    assert big["deliveries"] == 1 and not big["duplicate"]

    done = settled(api, big["id"], "big_orders")
    started = done["outcome"]["actions"][0]
    assert started["action"] == "start_workflow"
    body = run(api, started["workflowId"])
    assert body["input"] == {"orderId": "o-2"}
    assert body["correlationId"] == "c-2"  # the event's, since the action named none

    skipped = settled(api, small["id"], "big_orders")
    assert skipped["outcome"] == {"matched": False, "actions": []}
    assert len(_runs_of(api, "notify")) == 1


def test_a_repeated_event_id_is_kept_and_delivered_once(api):
    register(api, NOTIFY)
    add_handler(
        api,
        {
            "name": "once",
            "event": "order.created",
            "actions": [
                {"action": "start_workflow", "start_workflow": {"name": "notify", "input": {}}}
            ],
        },
    )
    first = publish(api, "order.created", {"n": 1}, id="evt-1")
    again = publish(api, "order.created", {"n": 2}, id="evt-1")
    assert first == {"id": "evt-1", "duplicate": False, "deliveries": 1, "completedTasks": []}
    assert again["duplicate"] is True and again["deliveries"] == 0
    settled(api, "evt-1", "once")
    assert event(api, "evt-1")["payload"] == {"n": 1}
    listed = api.get("/api/events", params={"topic": "order.created"}).json()
    assert [e["id"] for e in listed] == ["evt-1"]
    assert len(_runs_of(api, "notify")) == 1


def test_complete_task_and_fail_task_actions_finish_the_named_tasks(api):
    register(api, WAITER)
    add_handler(
        api,
        {
            "name": "settle",
            "event": "payment.done",
            "actions": [
                {
                    "action": "complete_task",
                    "complete_task": {
                        "workflowId": "${workflowId}",
                        "taskRefName": "hold",
                        "output": {"paid": "${amount}"},
                    },
                }
            ],
        },
    )
    add_handler(
        api,
        {
            "name": "reject",
            "event": "payment.failed",
            "actions": [
                {
                    "action": "fail_task",
                    "fail_task": {
                        "workflowId": "${workflowId}",
                        "taskRefName": "hold",
                        "reason": "card declined",
                    },
                }
            ],
        },
    )
    paid = start(api, "waiter")
    declined = start(api, "waiter")
    publish(api, "payment.done", {"workflowId": paid, "amount": 42})
    publish(api, "payment.failed", {"workflowId": declined})
    assert task_of(wait_status(api, paid), "hold")["outputData"] == {"paid": 42}
    failed = wait_status(api, declined)
    assert failed["status"] == "FAILED"
    assert task_of(failed, "hold")["reasonForIncompletion"].startswith("card declined")


def test_a_publish_action_publishes_a_caused_event(api):
    add_handler(
        api,
        {
            "name": "relay",
            "event": "order.paid",
            "actions": [
                {
                    "action": "publish",
                    "publish": {"topic": "invoice.requested", "payload": {"order": "${id}"}},
                }
            ],
        },
    )
    first = publish(api, "order.paid", {"id": "o-9"}, correlationId="c-9", source="payments")
    outcome = settled(api, first["id"], "relay")["outcome"]
    relayed = event(api, outcome["actions"][0]["eventId"])
    assert relayed["topic"] == "invoice.requested"
    assert relayed["payload"] == {"order": "o-9"}
    assert relayed["causationId"] == first["id"]
    assert relayed["correlationId"] == "c-9"
    assert relayed["source"] == "handler:relay"


def test_a_poison_event_is_dead_lettered_and_can_be_replayed(fast_api):
    api = fast_api
    add_handler(
        api,
        {
            "name": "fragile",
            "event": "order.created",
            "maxAttempts": 3,
            "actions": [
                {"action": "start_workflow", "start_workflow": {"name": "notify", "input": {}}}
            ],
        },
    )
    poison = publish(api, "order.created", {"x": 1})
    dead = settled(api, poison["id"], "fragile", status="DEAD")
    assert dead["attempts"] == 3
    assert "notify" in dead["lastError"]
    letters = api.get("/api/events/dead-letters").json()
    assert [(d["eventId"], d["subscriber"]) for d in letters] == [(poison["id"], "fragile")]
    assert _runs_of(api, "notify") == []

    register(api, NOTIFY)  # the cause is fixed: replay it
    replayed = api.post("/api/events/dead-letters/replay", json={"eventId": poison["id"]})
    assert replayed.json() == {"replayed": 1}
    done = settled(api, poison["id"], "fragile")
    assert done["attempts"] == 1
    assert api.get("/api/events/dead-letters").json() == []
    assert len(_runs_of(api, "notify")) == 1


def test_an_event_task_publishes_with_the_runs_correlation_id(api):
    register(
        api,
        {
            "name": "shipper",
            "tasks": [
                {
                    "name": "announce",
                    "taskReferenceName": "announce",
                    "type": "EVENT",
                    "sink": "conductor:order.shipped",
                    "inputParameters": {"orderId": "${workflow.input.orderId}"},
                }
            ],
        },
    )
    run_id = start(api, "shipper", {"orderId": "o-5"}, correlationId="order-5")
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    task = task_of(body, "announce")
    published = event(api, task["outputData"]["eventId"])
    assert published["topic"] == "order.shipped"
    assert published["payload"] == {"orderId": "o-5"}
    assert published["correlationId"] == "order-5"
    assert published["source"] == "shipper"
    assert (published["workflowId"], published["taskId"]) == (run_id, task["taskId"])


def test_a_wait_task_completes_when_its_event_arrives(api):
    register(
        api,
        {
            "name": "checkout",
            "tasks": [
                {
                    "name": "await_payment",
                    "taskReferenceName": "await_payment",
                    "type": "WAIT",
                    "inputParameters": {
                        "event": "payment.settled",
                        "correlationId": "${workflow.correlationId}",
                    },
                },
                {"name": "pack", "taskReferenceName": "pack"},
            ],
        },
    )
    run_id = start(api, "checkout", correlationId="order-7")
    eventually(lambda: run(api, run_id)["tasks"], what="the WAIT task to start")
    other = publish(api, "payment.settled", {"amount": 1}, correlationId="order-8")
    assert other["completedTasks"] == []
    assert task_of(run(api, run_id), "await_payment")["status"] == "IN_PROGRESS"

    mine = publish(api, "payments", {"amount": 30}, type="payment.settled", correlationId="order-7")
    assert len(mine["completedTasks"]) == 1
    body = run(api, run_id)
    assert task_of(body, "await_payment")["status"] == "COMPLETED"
    assert task_of(body, "await_payment")["outputData"] == {"amount": 30}
    assert poll(api, "pack")[0]["workflowInstanceId"] == run_id


def test_a_pull_subscription_leases_retries_and_dead_letters(api):
    response = api.post(
        "/api/subscriptions", json={"name": "loyalty", "topic": "order.*", "maxAttempts": 2}
    )
    assert response.status_code == 200, response.text
    first = publish(api, "order.shipped", {"o": 1})
    second = publish(api, "order.shipped", {"o": 2})
    publish(api, "invoice.sent", {})  # another topic: not for this subscription

    leased = api.get("/api/subscriptions/loyalty/poll", params={"consumer": "svc-1"}).json()
    assert [(item["event"]["id"], item["attempt"]) for item in leased] == [
        (first["id"], 1),
        (second["id"], 1),
    ]
    assert api.get("/api/subscriptions/loyalty/poll").json() == []  # leased, not handed twice

    acked = api.post("/api/subscriptions/loyalty/ack", json={"eventId": first["id"]})
    assert acked.json() == {"eventId": first["id"], "status": "DONE"}
    nacked = api.post(
        "/api/subscriptions/loyalty/nack", json={"eventId": second["id"], "error": "db down"}
    )
    assert nacked.json()["status"] == "PENDING"
    again = eventually(
        lambda: api.get("/api/subscriptions/loyalty/poll", params={"consumer": "svc-2"}).json(),
        what="the nacked event to come back",
    )
    assert [(item["event"]["id"], item["attempt"]) for item in again] == [(second["id"], 2)]
    final = api.post("/api/subscriptions/loyalty/nack", json={"eventId": second["id"]})
    assert final.json()["status"] == "DEAD"
    letters = api.get("/api/events/dead-letters", params={"subscriber": "loyalty"}).json()
    assert [d["eventId"] for d in letters] == [second["id"]]


def test_a_disabled_handler_gets_no_deliveries(api):
    handler = {
        "name": "quiet",
        "event": "order.created",
        "actions": [{"action": "publish", "publish": {"topic": "echo"}}],
    }
    add_handler(api, handler)
    assert api.post("/api/event", json=handler).status_code == 409
    response = api.put("/api/event", json={**handler, "active": False})
    assert response.status_code == 200, response.text
    assert publish(api, "order.created", {})["deliveries"] == 0
    assert api.get("/api/event/order.created").json() == []
    assert [h["name"] for h in api.get("/api/event").json()] == ["quiet"]
    assert api.delete("/api/event/quiet").status_code == 200
    assert api.get("/api/event").json() == []


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        ("/api/events/order.created", {"payload": {}, "colour": "red"}, "colour", "Extra"),
        ("/api/events/bad topic!", {"payload": {}}, "topic", "must be"),
        ("/api/events/x", {"time": -1}, "time", "greater than"),
        (
            "/api/event",
            {"name": "h", "event": "e", "actions": [{"action": "start_workflow"}]},
            "actions[0]",
            "needs a 'start_workflow' object",
        ),
        (
            "/api/event",
            {"name": "h", "event": "e", "condition": "$.a >", "actions": []},
            "actions",
            "at least 1",
        ),
        (
            "/api/event",
            {
                "name": "h",
                "event": "e",
                "condition": "$.a >",
                "actions": [{"action": "publish", "publish": {"topic": "t"}}],
            },
            "condition",
            "",
        ),
        ("/api/subscriptions", {"name": "s"}, "topic", "Field required"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(api, path, body, field, message):
    response = api.post(path, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["field"] == field
    assert message in error["message"]
    assert api.get("/api/events").json() == []
    assert api.get("/api/event").json() == []
    assert api.get("/api/subscriptions").json() == []
