"""A run is stored as a header row and a row per task, and a step writes what it changed.

Run on both stores, with the engine's own change tracking: ``precise`` checks that a state
reports exactly the changes a test made before the store writes it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from typing import Any

import orjson
import psycopg
import pytest

from podium.engine.state import RunState, RunStatus, TaskChanges, TaskState, TaskStatus
from podium.store.base import RunQuery, Store, StoreTx
from podium.store.dialect import TxDialect
from podium.store.postgres import PostgresStore
from podium.store.postgres_trips import RoundTrips
from podium.store.postgres_tx import PostgresTx
from podium.store.sqlite import SQLiteStore
from podium.store.sqlite_tx import SQLiteTx
from tests.conftest import StoreChoice


def precise(state: RunState, changed: list[TaskState], removed: tuple[str, ...] = ()) -> RunState:
    """``state``, once it is checked to report exactly these changes."""
    assert state.task_changes() == TaskChanges(tuple(changed), removed, False)
    return state


@pytest.fixture(autouse=True)
def seam(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RunState]]:
    """The states marked committed, in order."""
    real = RunState.mark_committed
    marked: list[RunState] = []

    def mark_committed(self: RunState) -> None:
        marked.append(self)
        real(self)

    monkeypatch.setattr(RunState, "mark_committed", mark_committed)
    yield marked


@pytest.fixture
def task_rows_written(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The ids of the task rows either store sends a body for, a list per statement (an
    executemany on SQLite)."""
    written: list[list[str]] = []
    for cls in (SQLiteTx, PostgresTx):
        original = cls._insert_tasks

        def counted(tx: Any, run_id: str, rows: Any, *, update: bool, _o: Any = original) -> None:
            if any(row[2] is not None for row in rows):
                written.append([row[0] for row in rows])
            _o(tx, run_id, rows, update=update)

        monkeypatch.setattr(cls, "_insert_tasks", counted)
    return written


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the shared run code runs and reads the answer of."""
    seen: list[str] = []
    original = TxDialect._x

    def recorded(tx: Any, sql: str, params: Any = ()) -> Any:
        seen.append(sql)
        return original(tx, sql, params)

    monkeypatch.setattr(TxDialect, "_x", recorded)
    return seen


def _new_store(choice: StoreChoice) -> Store:
    if choice.backend == "postgres":
        assert choice.postgres_url is not None
        return PostgresStore(choice.postgres_url, schema=choice.schema, pool_size=2)
    return SQLiteStore(choice.sqlite_path)


@pytest.fixture
async def store(store_choice: StoreChoice) -> AsyncIterator[Store]:
    opened = _new_store(store_choice)
    await opened.open()
    yield opened
    await opened.close()


def _execute(choice: StoreChoice, statement: str, params: tuple[Any, ...] = ()) -> None:
    """A write by another connection (written with ``?``)."""
    if choice.backend == "postgres":
        assert choice.postgres_url is not None
        with psycopg.connect(choice.postgres_url, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {choice.schema}")
            conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]
        return
    with closing(sqlite3.connect(choice.sqlite_path)) as conn, conn:
        conn.execute(statement, params)


def _task(n: int, status: TaskStatus = TaskStatus.COMPLETED) -> TaskState:
    return TaskState(
        task_id=f"r1-t{n}",
        ref=f"step{n}",
        name="step",
        type="SIMPLE",
        status=status,
        seq=n,
        scheduled_at=n,
        output={"n": n},
    )


def _run(tasks: int = 20) -> RunState:
    return RunState(
        run_id="r1",
        name="flow",
        version=1,
        status=RunStatus.RUNNING,
        created_at=1,
        input={"k": "v"},
        tasks=[_task(n) for n in range(1, tasks + 1)],
        next_seq=tasks + 1,
    )


async def _insert(store: Store, state: RunState) -> None:
    def unit(tx: StoreTx) -> None:
        tx.insert_run(state, "flow:1")
        tx.add_task_ids(state.run_id, [task.task_id for task in state.tasks])

    await store.write(unit)


async def _get(store: Store, run_id: str = "r1") -> RunState:
    found = await store.read(lambda tx: tx.get_run(run_id))
    assert found is not None
    return found[0]


async def _fresh_read(choice: StoreChoice) -> RunState:
    """The run as stored, read by a store with nothing cached."""
    other = _new_store(choice)
    await other.open()
    try:
        return await _get(other)
    finally:
        await other.close()


def _bodies(choice: StoreChoice) -> dict[str, bytes | None]:
    rows = choice.query("SELECT task_id, body FROM tasks WHERE run_id = 'r1'")
    return {row[0]: None if row[1] is None else bytes(row[1]) for row in rows}


def _step(state: RunState, n: int) -> tuple[RunState, list[TaskState]]:
    """The run after task ``n`` is redone and one task more scheduled."""
    new = state.clone()
    shared = new.task(f"r1-t{n}")
    assert shared is not None
    redone = new.edit(shared)
    redone.output = {"n": n, "again": True}
    added = _task(new.next_seq, TaskStatus.SCHEDULED)
    new.add_task(added)
    new.next_seq += 1
    return new, [redone, added]


async def test_a_step_writes_the_header_and_only_the_tasks_it_changed(
    store: Store, store_choice: StoreChoice, task_rows_written: list[list[str]]
) -> None:
    await _insert(store, _run(20))
    assert [len(ids) for ids in task_rows_written] == [20]  # a new run: every task, at once
    task_rows_written.clear()
    before = _bodies(store_choice)

    new, changed = _step(await _get(store), 7)
    await store.write(lambda tx: tx.update_run(precise(new, changed)))

    assert task_rows_written == [["r1-t7", "r1-t21"]]
    after = _bodies(store_choice)
    assert {k for k in after if after[k] != before.get(k)} == {"r1-t7", "r1-t21"}
    ((header,),) = store_choice.query("SELECT state FROM runs WHERE run_id = 'r1'")
    assert "tasks" not in orjson.loads(bytes(header))  # the row holds the header only
    assert (await _fresh_read(store_choice)).to_dict() == new.to_dict()


async def test_removed_tasks_lose_their_bodies_and_still_lead_to_their_run(
    store: Store, store_choice: StoreChoice, task_rows_written: list[list[str]]
) -> None:
    await _insert(store, _run(10))
    task_rows_written.clear()
    new = (await _get(store)).clone()
    new.remove_tasks(lambda task: task.seq <= 3)
    gone = ("r1-t1", "r1-t2", "r1-t3")
    await store.write(lambda tx: tx.update_run(precise(new, [], gone)))

    assert task_rows_written == []
    bodies = _bodies(store_choice)
    assert [task_id for task_id in gone if bodies[task_id] is None] == list(gone)
    assert await store.read(lambda tx: tx.run_of_task("r1-t2")) == "r1"
    assert [task.seq for task in (await _fresh_read(store_choice)).tasks] == list(range(4, 11))


async def test_a_rewrite_writes_every_task_and_clears_the_rest(
    store: Store, store_choice: StoreChoice
) -> None:
    await _insert(store, _run(10))
    new = (await _get(store)).clone()
    new.tasks = [task for task in new.tasks if task.seq % 2 == 0]  # rewrite: conservative
    await store.write(lambda tx: tx.update_run(new))
    kept = {task_id for task_id, body in _bodies(store_choice).items() if body is not None}
    assert kept == {f"r1-t{n}" for n in (2, 4, 6, 8, 10)}
    assert (await _fresh_read(store_choice)).to_dict() == new.to_dict()


async def test_a_run_is_marked_committed_and_cached_only_after_its_commit(
    store: Store, seam: list[RunState]
) -> None:
    first = _run(5)
    await _insert(store, first)
    assert seam == [first]
    assert await _get(store) is first  # cached from the write itself

    seen_inside: list[list[RunState]] = []

    def write_then_fail(tx: StoreTx) -> None:
        new, changed = _step(first, 2)
        tx.update_run(precise(new, changed))
        found = tx.get_run("r1")  # sends the write on PostgreSQL, which defers it
        assert found is not None and found[0].tasks[1].output["again"] is True
        seen_inside.append(list(seam))
        raise ValueError("the unit fails after writing")

    with pytest.raises(ValueError):
        await store.write(write_then_fail)
    assert seen_inside == [[first]]  # nothing marked before the commit
    assert seam == [first]  # nor after a rollback
    assert await _get(store) is first  # the stored run and the cache are as before
    assert (await _get(store)).tasks[1].output == {"n": 2}


async def test_a_unit_rolled_back_beside_committed_ones_leaves_its_run_as_it_was(
    store_choice: StoreChoice, store: Store, seam: list[RunState]
) -> None:
    """SQLite commits waiting units together; one rolled back to its savepoint alone."""
    await _insert(store, _run(5))
    first = await _get(store)
    other = RunState(run_id="r2", name="flow", version=1, status=RunStatus.RUNNING, created_at=1)
    await store.write(lambda tx: tx.insert_run(other, "flow:1"))
    second, changed = _step(first, 1)
    later = other.clone()
    later.input = {"k": "later"}

    def fail(tx: StoreTx) -> None:
        tx.update_run(precise(second, changed))
        tx.search_runs(RunQuery())  # SQLite writes waiting runs before searching
        raise ValueError("rolled back")

    def step_other(tx: StoreTx) -> None:
        tx.update_run(later)

    answers = await _one_batch(store, [fail, step_other])
    assert isinstance(answers[0], ValueError) and answers[1] is None
    assert second not in seam and later in seam
    assert await _get(store) is first
    assert (await _fresh_read(store_choice)).to_dict() == first.to_dict()
    assert await _get(store, "r2") is later


async def _one_batch(store: Store, units: list[Callable[[StoreTx], Any]]) -> list[Any]:
    """Run ``units`` together: on SQLite they queue up while the writer is held, and share
    one transaction; on PostgreSQL each has its own anyway."""
    gate = threading.Event()
    held = asyncio.ensure_future(store.write(lambda tx: gate.wait(5)))
    await asyncio.sleep(0.05)
    futures = [asyncio.ensure_future(store.write(unit)) for unit in units]
    await asyncio.sleep(0.05)
    gate.set()
    await held
    return list(await asyncio.gather(*futures, return_exceptions=True))


async def test_a_cached_run_is_served_while_its_rev_holds_and_read_again_after(
    store: Store, store_choice: StoreChoice, statements: list[str]
) -> None:
    await _insert(store, _run(5))
    cached = await _get(store)
    # Bodies changed behind the store's back, the rev kept: the cache still answers, so the
    # task rows are not read at all on a hit.
    _execute(store_choice, "UPDATE tasks SET body = NULL WHERE run_id = 'r1'")
    statements.clear()
    assert await _get(store) is cached
    assert not [sql for sql in statements if "FROM tasks" in sql]

    # Another instance steps the run: a new rev, and the run is read again, tasks and all.
    await _insert_bodies(store_choice, cached)
    other = _new_store(store_choice)
    await other.open()
    try:
        new, changed = _step(await _get(other), 3)
        await other.write(lambda tx: tx.update_run(precise(new, changed)))
    finally:
        await other.close()
    found = await _get(store)
    assert found is not cached and found.to_dict() == new.to_dict()


async def test_a_run_read_from_its_rows_comes_whole_on_postgres_in_one_round_trip(
    store: Store, store_choice: StoreChoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended = _run(5)
    ended.status, ended.end_at = RunStatus.COMPLETED, 9  # ended: never cached
    running = _run(3)
    running.run_id = "r2"
    for task in running.tasks:
        task.task_id = task.task_id.replace("r1", "r2")
    await _insert(store, ended)
    await _insert(store, running)
    trips: list[list[str]] = []
    flush = RoundTrips.flush

    def counted(self: RoundTrips) -> None:
        trips.append([sql for _, sql, _ in self._waiting])
        flush(self)

    monkeypatch.setattr(RoundTrips, "flush", counted)
    given: list[list[bytes] | None] = []
    state = PostgresTx._state

    def recorded(
        tx: PostgresTx, run_id: str, stored: bytes, rev: int | None, bodies: Any = None
    ) -> RunState:
        given.append(bodies)
        return state(tx, run_id, stored, rev, bodies)

    monkeypatch.setattr(PostgresTx, "_state", recorded)
    postgres = store_choice.backend == "postgres"

    assert (await _get(store)).to_dict() == ended.to_dict()
    if postgres:
        reads = [trip for trip in trips if any("FROM runs" in s or "FROM tasks" in s for s in trip)]
        assert len(reads) == 1  # the header and the task bodies together
        assert given == [[orjson.dumps(task) for task in ended.tasks]]
    # A run whose cached state is the stored one: its task bodies are not sent at all.
    given.clear()
    assert (await _get(store, "r2")).to_dict() == running.to_dict()
    assert given == ([None] if postgres else [])


async def _insert_bodies(choice: StoreChoice, state: RunState) -> None:
    for task in state.tasks:
        _execute(
            choice,
            "UPDATE tasks SET seq = ?, body = ? WHERE task_id = ?",
            (task.seq, orjson.dumps(task), task.task_id),
        )


async def test_a_row_written_before_task_rows_is_read_and_converted_at_its_next_write(
    store: Store, store_choice: StoreChoice
) -> None:
    old = _run(4)
    # As the store wrote runs before: the whole run in runs.state, tasks with ids only.
    _execute(
        store_choice,
        "INSERT INTO runs (run_id, name, version, status, correlation_id, parent_run_id, "
        "definition_key, created_at, updated_at, ended_at, state) "
        "VALUES ('r1', 'flow', 1, 'RUNNING', NULL, NULL, 'flow:1', 1, 1, NULL, ?)",
        (old.to_json(),),
    )
    for task in old.tasks:
        _execute(
            store_choice, "INSERT INTO tasks (task_id, run_id) VALUES (?, 'r1')", (task.task_id,)
        )

    found = await _get(store)
    assert found.to_dict() == old.to_dict()
    assert await store.read(lambda tx: tx.run_of_task("r1-t3")) == "r1"
    _, summaries = await store.read(lambda tx: tx.search_runs(RunQuery(), tasks=False))
    assert [run.run_id for run in summaries] == ["r1"]

    new = found.clone()  # read whole: its changes are not known, so every task is written
    new.edit(new.tasks[0]).output = {"n": 1, "again": True}
    await store.write(lambda tx: tx.update_run(new))
    ((header, rev),) = store_choice.query("SELECT state, rev FROM runs WHERE run_id = 'r1'")
    assert "tasks" not in orjson.loads(bytes(header)) and rev is not None
    assert all(body is not None for body in _bodies(store_choice).values())
    assert (await _fresh_read(store_choice)).to_dict() == new.to_dict()


async def test_summaries_read_no_task_rows_and_searches_read_them_at_once(
    store: Store, store_choice: StoreChoice, statements: list[str]
) -> None:
    await _insert(store, _run(5))
    for n in (2, 3):
        other = RunState(
            run_id=f"r{n}", name="flow", version=1, status=RunStatus.RUNNING, created_at=n
        )
        other.tasks = [TaskState(**{**_task(1).to_dict(), "task_id": f"r{n}-t1"})]
        await _insert(store, other)
    statements.clear()
    _, found = await store.read(lambda tx: tx.search_runs(RunQuery(), tasks=False))
    assert [run.tasks for run in found] == [[], [], []]
    assert not [sql for sql in statements if "FROM tasks" in sql]

    fresh = _new_store(store_choice)  # nothing cached: every run's tasks are read
    await fresh.open()
    try:
        statements.clear()
        _, whole = await fresh.read(lambda tx: tx.search_runs(RunQuery()))
    finally:
        await fresh.close()
    assert [(run.run_id, len(run.tasks)) for run in whole] == [("r3", 1), ("r2", 1), ("r1", 5)]
    assert len([sql for sql in statements if "FROM tasks" in sql]) == 1


@pytest.mark.parametrize("archive", [True, False])
async def test_retention_archives_whole_runs_and_removes_their_task_rows(
    store: Store, store_choice: StoreChoice, archive: bool
) -> None:
    await _insert(store, _run(6))
    ended = (await _get(store)).clone()
    ended.status, ended.end_at = RunStatus.COMPLETED, 10
    ended.remove_tasks(lambda task: task.seq <= 2)
    await store.write(lambda tx: tx.update_run(precise(ended, [], ("r1-t1", "r1-t2"))))

    removed = await store.write(lambda tx: tx.remove_ended_runs(100, 10, archive=archive, now=50))
    assert removed == 1
    assert store_choice.query("SELECT COUNT(*) FROM tasks") == [(0,)]
    assert await store.read(lambda tx: tx.get_run("r1")) is None
    archived = store_choice.query("SELECT run_id, archived_at, state FROM archived_runs")
    if not archive:
        assert archived == []
        return
    ((run_id, at, whole),) = archived
    assert (run_id, at) == ("r1", 50)
    assert RunState.from_dict(orjson.loads(bytes(whole))).to_dict() == ended.to_dict()


async def test_deleting_a_run_deletes_its_task_rows(
    store: Store, store_choice: StoreChoice
) -> None:
    await _insert(store, _run(3))
    other = RunState(run_id="r2", name="flow", version=1, status=RunStatus.RUNNING, created_at=1)
    other.tasks = [_task(1)]
    other.tasks[0].task_id = "r2-t1"
    await _insert(store, other)
    assert await store.write(lambda tx: tx.delete_run("r1")) is True
    assert store_choice.query("SELECT task_id FROM tasks") == [("r2-t1",)]
    assert await store.read(lambda tx: tx.get_run("r1")) is None
    assert (await _get(store, "r2")).tasks[0].task_id == "r2-t1"
