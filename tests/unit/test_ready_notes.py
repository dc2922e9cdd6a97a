"""Instances sharing a PostgreSQL database hear each other's queued tasks, not their own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from podium.store.base import StoreTx
from podium.store.postgres import PostgresStore
from podium.store.ready_notes import new_origin, note_for, queue_heard
from tests.postgres import new_schema_name


def test_a_note_names_its_sender_and_its_queue() -> None:
    me, other = new_origin(), new_origin()
    assert me != other
    assert queue_heard(note_for(other, "payments charge"), me) == "payments charge"
    assert queue_heard(note_for(me, "payments"), me) is None
    # A store that does not say who it is: the whole note is the queue.
    assert queue_heard("payments", me) == "payments"


async def _heard(log: list[str | None], queue: str | None) -> None:
    """Wait until ``queue`` is in ``log`` (None: the listener says it started listening)."""
    async with asyncio.timeout(10):
        while queue not in log:
            await asyncio.sleep(0.01)


async def test_an_instance_skips_its_own_notes_and_hears_the_others(postgres_url: str) -> None:
    schema = new_schema_name()
    first = PostgresStore(postgres_url, schema=schema, pool_size=1)
    second = PostgresStore(postgres_url, schema=schema, pool_size=1)
    heard: dict[str, list[str | None]] = {"first": [], "second": []}
    await first.open()
    await second.open()
    try:
        first.subscribe(heard["first"].append)
        second.subscribe(heard["second"].append)

        # Each listener says it started listening (None); from then on nothing is missed.
        for log in heard.values():
            await _heard(log, None)
        await first.write(announce("from-first"))
        await _heard(heard["second"], "from-first")
        await second.write(announce("from-second"))
        # Notes reach a listener in commit order: hearing the second proves the first had
        # reached the first instance too, and was skipped.
        await _heard(heard["first"], "from-second")
        assert heard["first"] == [None, "from-second"]
        assert heard["second"] == [None, "from-first"]
    finally:
        await first.close()
        await second.close()


def announce(queue: str) -> Callable[[StoreTx], None]:
    def unit(tx: StoreTx) -> None:
        tx.announce_ready([queue])

    return unit
