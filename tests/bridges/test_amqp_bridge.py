"""The RabbitMQ bridge against the local RabbitMQ server: EVENT tasks publish to a queue,
queue messages become bus events (de-duplicated) that release WAIT tasks, a burst arrives
whole through the prefetch window, and an outage delays but loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from podium.testing import PodiumTestServer
from tests.bridges.helpers import event_flow, events_on, finished, register, start, until
from tests.bridges.proxy import CuttableProxy
from tests.conftest import StoreChoice


@pytest.fixture
def queues(unique: str) -> dict[str, str]:
    return {"in": f"podtest.{unique}.payments", "out": f"podtest.{unique}.shipped"}


@pytest.fixture
async def rabbit(amqp_url: str, queues) -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(amqp_url)
    yield connection
    channel = await connection.channel()
    for name in queues.values():
        await channel.queue_delete(name)
    await connection.close()


@pytest.fixture
def bridged(store_choice: StoreChoice, amqp_url: str, queues) -> Iterator[PodiumTestServer]:
    with store_choice.server(
        sweep_interval_s=0.2, amqp_url=amqp_url, amqp_queues=(queues["in"],)
    ) as server:
        yield server


@pytest.fixture
async def api(bridged: PodiumTestServer, rabbit) -> AsyncIterator[httpx.AsyncClient]:
    bridge = bridged.app.state.events.bridges["amqp"]
    async with httpx.AsyncClient(base_url=bridged.url, timeout=30) as client:
        await until(_is_set(bridge.connected), "the AMQP bridge to connect")
        yield client


def _is_set(flag):
    async def check() -> bool:
        return flag.is_set()

    return check


async def _send(rabbit, queue: str, body: bytes, **properties) -> None:
    channel = await rabbit.channel()
    await channel.default_exchange.publish(aio_pika.Message(body, **properties), routing_key=queue)
    await channel.close()


async def test_an_event_task_publishes_a_persistent_message_to_a_queue(api, rabbit, queues):
    await register(api, event_flow("ship_amqp", f"amqp:{queues['out']}"))
    run_id = await start(api, "ship_amqp", "order-a1", {"orderId": "a1"})
    event_id = (await finished(api, run_id))["tasks"][0]["outputData"]["eventId"]

    channel = await rabbit.channel()
    queue = await channel.declare_queue(queues["out"], durable=True)
    message = await until(lambda: queue.get(fail=False), "the message to reach the queue")
    await message.ack()
    assert message.message_id == event_id
    assert message.correlation_id == "order-a1"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert json.loads(message.body)["payload"] == {"orderId": "a1"}
    await asyncio.sleep(0.5)
    assert await queue.get(fail=False) is None  # sent once


async def test_a_queue_message_releases_the_wait_task_of_its_correlation_id(api, rabbit, queues):
    topic = f"amqp:{queues['in']}"
    await register(
        api,
        {
            "name": "await_payment",
            "tasks": [
                {
                    "name": "wait_pay",
                    "taskReferenceName": "wait_pay",
                    "type": "WAIT",
                    "inputParameters": {
                        "event": topic,
                        "correlationId": "${workflow.correlationId}",
                    },
                }
            ],
        },
    )
    run_id = await start(api, "await_payment", "order-a2")
    await until(lambda: _status_of(api, run_id, "IN_PROGRESS"), "the WAIT task to start waiting")
    body = b'{"amount": 99}'
    await _send(rabbit, queues["in"], body, message_id="m-1", correlation_id="order-a2")
    await _send(rabbit, queues["in"], body, message_id="m-1", correlation_id="order-a2")
    run = await finished(api, run_id)
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"amount": 99}
    await asyncio.sleep(0.5)
    assert [e["id"] for e in await events_on(api, topic)] == ["m-1"]  # the repeat was dropped


async def _status_of(api, run_id: str, status: str) -> bool:
    body = (await api.get(f"/api/workflow/{run_id}")).json()
    return bool(body["tasks"]) and body["tasks"][0]["status"] == status


async def test_a_burst_arrives_whole_through_the_prefetch_window(api, rabbit, queues):
    topic = f"amqp:{queues['in']}"
    channel = await rabbit.channel()
    for n in range(200):
        message = aio_pika.Message(json.dumps({"n": n}).encode(), message_id=f"burst-{n}")
        await channel.default_exchange.publish(message, routing_key=queues["in"])

    async def all_in() -> bool:
        response = await api.get("/api/events", params={"topic": topic, "limit": 1000})
        return len(response.json()) == 200

    await until(all_in, "200 events to arrive", timeout=60)
    events = (await api.get("/api/events", params={"topic": topic, "limit": 1000})).json()
    assert sorted(e["payload"]["n"] for e in events) == list(range(200))
    queue = await channel.declare_queue(queues["in"], durable=True)
    assert queue.declaration_result.message_count == 0  # every one acked


async def test_an_outage_delays_publishing_and_loses_nothing(
    store_choice: StoreChoice, rabbit, queues
):
    proxy = CuttableProxy(5672)
    proxy.open()
    settings = {"sweep_interval_s": 0.2, "amqp_url": f"amqp://guest:guest@127.0.0.1:{proxy.port}/"}
    try:
        with store_choice.server(**settings) as server:
            bridge = server.app.state.events.bridges["amqp"]
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
                await until(_is_set(bridge.connected), "the AMQP bridge to connect")
                await register(api, event_flow("ship_later", f"amqp:{queues['out']}"))
                proxy.cut()
                await asyncio.sleep(0.5)
                run_id = await start(api, "ship_later", "order-a3", {"orderId": "a3"})
                assert (await finished(api, run_id))["status"] == "COMPLETED"
                await asyncio.sleep(1)
                assert store_choice.query("SELECT COUNT(*) FROM event_outbox") == [(1,)]

                proxy.open()
                channel = await rabbit.channel()
                queue = await channel.declare_queue(queues["out"], durable=True)
                message = await until(
                    lambda: queue.get(fail=False), "the message to arrive", timeout=60
                )
                await message.ack()
                assert json.loads(message.body)["payload"] == {"orderId": "a3"}

                async def outbox_empty() -> bool:
                    return store_choice.query("SELECT COUNT(*) FROM event_outbox") == [(0,)]

                await until(outbox_empty, "the outbox to empty")
    finally:
        proxy.close()
