"""SQLite writes a run the units of one transaction change once, before the commit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium.engine.state import RunState, RunStatus
from podium.errors import StoreError
from podium.store.base import RunQuery, StoreTx
from podium.store.pending_runs import PendingRuns
from podium.store.sqlite import SQLiteStore
from podium.store.sqlite_tx import SQLiteTx


def _run(run_id: str = "r1", n: int = 0, status: RunStatus = RunStatus.RUNNING) -> RunState:
    return RunState(
        run_id=run_id, name="flow", version=1, status=status, created_at=1, input={"n": n}
    )


# ---- PendingRuns on its own --------------------------------------------------------------


def test_a_run_changed_twice_is_written_once_as_it_stands() -> None:
    written: list[RunState] = []
    pending = PendingRuns(written.append)
    first, second = _run(n=1), _run(n=2)
    pending.put(first)
    pending.put(second)
    assert pending.get("r1") is second
    pending.store()
    pending.store()  # nothing changed since: nothing written again
    assert written == [second]


def test_a_unit_rolled_back_takes_its_changes_back() -> None:
    written: list[RunState] = []
    pending = PendingRuns(written.append)
    kept = _run(n=1)
    pending.begin_unit()
    pending.put(kept)
    pending.begin_unit()
    pending.put(_run(n=2))
    pending.put(_run("r2"))
    pending.drop("r1")
    pending.roll_back_unit()
    assert pending.get("r1") is kept
    assert pending.get("r2") is None
    pending.store()
    assert written == [kept]


def test_what_a_rolled_back_unit_had_written_is_written_again() -> None:
    written: list[RunState] = []
    pending = PendingRuns(written.append)
    kept = _run(n=1)
    pending.begin_unit()
    pending.put(kept)
    pending.begin_unit()
    pending.store()  # a search inside the second unit writes the first unit's run ...
    pending.roll_back_unit()  # ... and rolling the second unit back undoes that write
    pending.store()
    assert written == [kept, kept]
    pending.end()
    assert len(pending) == 0


# ---- in the store: units batched into one transaction -------------------------------------


async def _one_batch(store: SQLiteStore, units: list[Callable[[StoreTx], Any]]) -> list[Any]:
    """Run ``units`` in one transaction: they queue up while the writer is held."""
    gate = threading.Event()
    held = asyncio.ensure_future(store.write(lambda tx: gate.wait(5)))
    await asyncio.sleep(0.05)
    futures = [asyncio.ensure_future(store.write(unit)) for unit in units]
    await asyncio.sleep(0.05)
    gate.set()
    await held
    return list(await asyncio.gather(*futures, return_exceptions=True))


def _step(tx: StoreTx) -> int:
    found = tx.get_run("r1")
    assert found is not None
    n = int(found[0].input["n"]) + 1
    tx.update_run(_run(n=n))
    return n


def _fail_after_writing(tx: StoreTx) -> None:
    tx.update_run(_run(n=100))
    raise ValueError("the unit fails after writing its run")


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ``n`` of every run the store writes (set before the store opens)."""
    written: list[int] = []
    write_run = SQLiteTx._write_run

    def counted(tx: SQLiteTx, state: RunState) -> None:
        written.append(int(state.input["n"]))
        write_run(tx, state)

    monkeypatch.setattr(SQLiteTx, "_write_run", counted)
    return written


@pytest.fixture
async def store(tmp_path: Path, writes: list[int]) -> Any:
    store = SQLiteStore(tmp_path / "runs.db")
    await store.open()
    await store.write(lambda tx: tx.insert_run(_run(), "flow:1"))
    yield store
    await store.close()


async def test_each_unit_sees_the_one_before_and_the_run_is_written_once(
    store: SQLiteStore, writes: list[int]
) -> None:
    answers = await _one_batch(store, [_step] * 5 + [_fail_after_writing] + [_step] * 5)
    assert answers[:5] == [1, 2, 3, 4, 5]
    assert isinstance(answers[5], ValueError)
    assert answers[6:] == [6, 7, 8, 9, 10]  # the failed unit's write was taken back
    assert writes == [10]
    found = await store.read(lambda tx: tx.get_run("r1"))
    assert found is not None and found[0].input == {"n": 10}


async def test_a_search_in_the_same_transaction_finds_a_waiting_run(store: SQLiteStore) -> None:
    def complete(tx: StoreTx) -> None:
        tx.update_run(_run(n=1, status=RunStatus.COMPLETED))

    def search(tx: StoreTx) -> list[str]:
        _, runs = tx.search_runs(RunQuery(statuses=("COMPLETED",)))
        return [run.run_id for run in runs]

    assert await _one_batch(store, [complete, search]) == [None, ["r1"]]


async def test_a_run_that_cannot_be_stored_fails_its_own_unit_alone(store: SQLiteStore) -> None:
    def unencodable(tx: StoreTx) -> None:
        run = _run("r2")
        tx.insert_run(run, "flow:1")
        run = _run("r2")
        run.output = {"huge": 2**70}  # JSON numbers are stored as 64-bit at most
        tx.update_run(run)

    answers = await _one_batch(store, [_step, unencodable, _step])
    assert answers[0] == 1 and answers[2] == 2
    assert isinstance(answers[1], TypeError | StoreError)
    assert await store.read(lambda tx: tx.get_run("r2")) is None  # its unit left nothing
    found = await store.read(lambda tx: tx.get_run("r1"))
    assert found is not None and found[0].input == {"n": 2}
