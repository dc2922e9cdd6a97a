"""Decoded runs kept by their row's rev: never a state other than the stored one."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import orjson
import psycopg
import pytest
from psycopg import sql

from podium.engine.state import RunState, RunStatus
from podium.store.base import Store, StoreTx
from podium.store.postgres import PostgresStore
from podium.store.run_cache import RunCache
from podium.store.sqlite import SQLiteStore
from tests.postgres import new_schema_name


def _run(run_id: str = "r1", status: RunStatus = RunStatus.RUNNING, **data: object) -> RunState:
    return RunState(run_id=run_id, name="flow", version=1, status=status, created_at=1, **data)  # type: ignore[arg-type]


def _size(state: RunState) -> int:
    return len(orjson.dumps(state.to_dict()))


def test_answers_only_for_the_rev_it_kept() -> None:
    cache = RunCache()
    state = _run()
    cache.put("r1", 7, _size(state), state)
    assert cache.get("r1", 7) is state
    assert cache.get("r1", 8) is None
    assert len(cache) == 0  # a stale entry is dropped, not kept beside the new rev


def test_ended_runs_and_huge_runs_are_not_kept() -> None:
    cache = RunCache(max_entry_bytes=100)
    ended = _run(status=RunStatus.COMPLETED)
    cache.put("r1", 1, _size(ended), ended)
    big = _run("r2", input={"blob": "x" * 200})
    cache.put("r2", 1, _size(big), big)
    assert len(cache) == 0


def test_bounded_in_bytes_least_recently_used_first() -> None:
    states = [_run(f"r{i}") for i in range(3)]
    size = _size(states[0])
    cache = RunCache(max_bytes=2 * size + 1, max_entry_bytes=size)
    for state in states[:2]:
        cache.put(state.run_id, 1, size, state)
    assert cache.get("r0", 1) is states[0]  # r1 is now the oldest
    cache.put("r2", 1, size, states[2])
    assert cache.get("r1", 1) is None
    assert cache.get("r0", 1) is states[0]
    assert cache.size_bytes <= cache.max_bytes


def test_a_ten_thousand_task_run_stays_cached_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODIUM_RUN_CACHE_MB", raising=False)
    cache = RunCache()
    state = _run()
    cache.put("r1", 1, 10_000 * 2048, state)  # ten thousand tasks of 2 KB stored each
    assert cache.get("r1", 1) is state


def test_the_bound_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_RUN_CACHE_MB", "1")
    cache = RunCache()
    assert (cache.max_bytes, cache.max_entry_bytes) == (1 << 20, 1 << 18)
    state = _run()
    cache.put("r1", 1, 1 << 19, state)  # past a quarter of the whole: not kept
    assert cache.get("r1", 1) is None


async def _get(store: Store, run_id: str) -> RunState:
    found = await store.read(lambda tx: tx.get_run(run_id))
    assert found is not None
    return found[0]


def _foreign_write(store: Store, tmp_path: Path, postgres_url: str | None, stored: bytes) -> None:
    """Another connection (a CLI command, another server instance) changes the row."""
    if isinstance(store, SQLiteStore):
        with closing(sqlite3.connect(tmp_path / "runs.db")) as other, other:
            other.execute("UPDATE runs SET state = ?, rev = 99 WHERE run_id = 'r1'", (stored,))
        return
    assert isinstance(store, PostgresStore) and postgres_url is not None
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute(
            sql.SQL("UPDATE {}.runs SET state = %s, rev = 99 WHERE run_id = 'r1'").format(
                sql.Identifier(store.schema)
            ),
            (stored,),
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_store_never_answers_a_rolled_back_or_foreign_write(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    postgres_url: str | None = None
    store: Store
    if backend == "sqlite":
        store = SQLiteStore(tmp_path / "runs.db")
    else:
        postgres_url = request.getfixturevalue("postgres_url")
        store = PostgresStore(postgres_url, schema=new_schema_name(), pool_size=2)
    await store.open()
    try:
        first = _run(input={"n": 1})
        await store.write(lambda tx: tx.insert_run(first, "flow:1"))
        assert await _get(store, "r1") is first  # kept from the write itself

        def write_then_fail(tx: StoreTx) -> None:
            tx.update_run(_run(input={"n": 2}))
            tx.get_run("r1")  # sends the write on PostgreSQL, which defers it
            raise ValueError("the unit fails after writing")

        with pytest.raises(ValueError):
            await store.write(write_then_fail)
        assert (await _get(store, "r1")).input == {"n": 1}

        foreign = orjson.dumps(_run(input={"n": 3}).header_dict())
        _foreign_write(store, tmp_path, postgres_url, foreign)
        assert (await _get(store, "r1")).input == {"n": 3}
    finally:
        await store.close()


def test_bounded_in_entries_too() -> None:
    cache = RunCache(max_entries=2)
    states = [_run(f"r{i}") for i in range(3)]
    for state in states:
        cache.put(state.run_id, 1, _size(state), state)
    assert len(cache) == 2
    assert cache.get("r0", 1) is None
