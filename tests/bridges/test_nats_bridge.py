"""The NATS JetStream bridge against the local NATS server: EVENT tasks publish to NATS,
messages on NATS become bus events (de-duplicated), and an outage delays but loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import nats
import pytest
from nats.aio.client import Client

from podium.testing import PodiumTestServer
from tests.bridges.helpers import event_flow, events_on, finished, register, start, until
from tests.bridges.proxy import CuttableProxy
from tests.conftest import StoreChoice


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()


@pytest.fixture
def names(unique: str) -> dict[str, str]:
    return {"stream": f"PODTEST_{unique}", "prefix": f"podtest.{unique}"}


@pytest.fixture
def bridged(store_choice: StoreChoice, nats_url: str, names) -> Iterator[PodiumTestServer]:
    with store_choice.server(
        sweep_interval_s=0.2,
        nats_url=nats_url,
        nats_stream=names["stream"],
        nats_subjects=(f"{names['prefix']}.>",),
    ) as server:
        yield server


@pytest.fixture
async def api(bridged: PodiumTestServer, nc: Client, names) -> AsyncIterator[httpx.AsyncClient]:
    bridge = bridged.app.state.events.bridges["nats"]
    async with httpx.AsyncClient(base_url=bridged.url, timeout=30) as client:
        await until(lambda: _connected(bridge), "the NATS bridge to connect")
        yield client
    await nc.jetstream().delete_stream(names["stream"])


async def _connected(bridge) -> bool:
    return bridge.connected.is_set()


async def test_an_event_task_publishes_to_a_nats_subject_once_committed(api, nc, names):
    subject = f"{names['prefix']}.shipped"
    received: asyncio.Queue = asyncio.Queue()
    await nc.subscribe(subject, cb=received.put)
    await register(api, event_flow("ship_nats", f"nats:{subject}"))
    run_id = await start(api, "ship_nats", "order-n1", {"orderId": "n1"})
    run = await finished(api, run_id)
    event_id = run["tasks"][0]["outputData"]["eventId"]

    message = await asyncio.wait_for(received.get(), 20)
    assert message.headers["Nats-Msg-Id"] == event_id
    assert message.headers["Correlation-Id"] == "order-n1"
    body = json.loads(message.data)
    assert body["id"] == event_id and body["payload"] == {"orderId": "n1"}
    [kept] = await events_on(api, f"nats:{subject}")  # on the bus too, for handlers and traces
    assert kept["id"] == event_id and kept["workflowId"] == run_id
    await asyncio.sleep(0.5)
    assert received.empty()  # sent once


async def test_messages_on_nats_become_bus_events_once_and_trigger_handlers(api, nc, names):
    subject = f"{names['prefix']}.payments"
    await register(
        api,
        {"name": "on_payment", "tasks": [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}]},
    )
    handler = {
        "name": f"pay_{names['stream']}",
        "event": f"nats:{subject}",
        "actions": [
            {
                "action": "start_workflow",
                "start_workflow": {"name": "on_payment", "input": {"amount": "${amount}"}},
            }
        ],
    }
    assert (await api.post("/api/event", json=handler)).status_code == 200
    js = nc.jetstream()
    await js.publish(
        subject, b'{"amount": 12}', headers={"Nats-Msg-Id": "pay-1", "Correlation-Id": "order-p1"}
    )
    # The same event through another publisher: a Podium envelope with the same id.
    envelope = {"id": "pay-1", "type": "payment", "payload": {"amount": 12}}
    await js.publish(subject, json.dumps(envelope).encode(), headers={"Nats-Msg-Id": "other"})
    await js.publish(subject, b"not json", headers={"Nats-Msg-Id": "pay-2"})

    events = await until(
        lambda: _at_least(api, f"nats:{subject}", 2), "two events to arrive from NATS"
    )
    await asyncio.sleep(1)
    events = await events_on(api, f"nats:{subject}")
    assert [(e["id"], e["payload"]) for e in events] == [
        ("pay-1", {"amount": 12}),
        ("pay-2", {"text": "not json"}),
    ]
    assert events[0]["correlationId"] == "order-p1"

    async def started() -> list:
        found = (await api.get("/api/workflow/search", params={"name": "on_payment"})).json()
        return found["results"] if len(found["results"]) == 2 else []

    runs = await until(started, "the handler to start a run per event")
    assert sorted(str(r["input"]) for r in runs) == ["{'amount': 12}", "{'amount': None}"]


async def _at_least(api, topic: str, count: int) -> list:
    found = await events_on(api, topic)
    return found if len(found) >= count else []


async def test_an_outage_delays_publishing_and_loses_nothing(
    store_choice: StoreChoice, nats_url: str, nc, names
):
    proxy = CuttableProxy(4222)
    proxy.open()
    subject = f"{names['prefix']}.during_outage"
    received: asyncio.Queue = asyncio.Queue()
    await nc.subscribe(subject, cb=received.put)
    settings = {
        "sweep_interval_s": 0.2,
        "nats_url": f"nats://127.0.0.1:{proxy.port}",
        "nats_stream": names["stream"],
        "nats_subjects": (f"{names['prefix']}.>",),
    }
    try:
        with store_choice.server(**settings) as server:
            bridge = server.app.state.events.bridges["nats"]
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
                await until(lambda: _connected(bridge), "the NATS bridge to connect")
                await register(api, event_flow("ship_later", f"nats:{subject}"))
                proxy.cut()
                await until(lambda: _disconnected(bridge), "the bridge to notice the outage")
                run_id = await start(api, "ship_later", "order-o1", {"orderId": "o1"})
                assert (await finished(api, run_id))["status"] == "COMPLETED"
                await asyncio.sleep(1.5)
                assert received.empty()
                assert store_choice.query("SELECT COUNT(*) FROM event_outbox") == [(1,)]

                proxy.open()
                message = await asyncio.wait_for(received.get(), 30)
                assert json.loads(message.data)["payload"] == {"orderId": "o1"}
                await until(
                    _async(
                        lambda: store_choice.query("SELECT COUNT(*) FROM event_outbox") == [(0,)]
                    ),
                    "the outbox to empty",
                )
    finally:
        proxy.close()
        await nc.jetstream().delete_stream(names["stream"])


async def _disconnected(bridge) -> bool:
    await asyncio.sleep(0)
    return not bridge.connected.is_set() or bridge._js is None or not bridge._js._nc.is_connected


def _async(check):
    async def run():
        return check()

    return run
