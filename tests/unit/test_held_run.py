"""``HeldRun``: the run read and written once, queue rows read once, writes counted."""

from __future__ import annotations

from typing import Any

from podium.engine.state import RunState, RunStatus
from podium.server.held_run import HeldRun
from podium.store.base import QueueEntry


def _state(run_id: str = "r1", status: RunStatus = RunStatus.RUNNING) -> RunState:
    return RunState(run_id=run_id, name="w", version=1, status=status, created_at=0, input={})


def _entry(task_id: str, owner: str | None = "w1") -> QueueEntry:
    return QueueEntry(task_id, "r1", "work", 0, 1000, owner, 5000 if owner else None, 1, 0)


class FakeTx:
    """Records every call; answers the run's queue rows and claims from what it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.rows = {"t1": _entry("t1"), "t2": _entry("t2")}
        self.claimable: list[QueueEntry] = []

    def update_run(self, state: RunState) -> None:
        self.calls.append(("update_run", (state,)))

    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        self.calls.append(("get_run", (run_id,)))
        return _state(run_id), "k"

    def queue_entries(self, run_id: str) -> list[QueueEntry]:
        self.calls.append(("queue_entries", (run_id,)))
        return list(self.rows.values())

    def queue_entry(self, task_id: str) -> QueueEntry | None:
        self.calls.append(("queue_entry", (task_id,)))
        return self.rows.get(task_id)

    def dequeue(self, task_id: str) -> None:
        self.calls.append(("dequeue", (task_id,)))
        self.rows.pop(task_id, None)

    def extend_lease(self, task_id: str, until: int) -> None:
        self.calls.append(("extend_lease", (task_id, until)))

    def enqueue(self, task_id: str, *args: Any) -> None:
        self.calls.append(("enqueue", (task_id, *args)))
        self.claimable.append(_entry(task_id, owner=None))

    def add_task_ids(self, run_id: str, ids: list[str]) -> None:
        self.calls.append(("add_task_ids", (run_id, ids)))

    def publish_event(self, *args: Any) -> None:
        self.calls.append(("publish_event", args))

    def get_task_def(self, name: str) -> None:
        self.calls.append(("get_task_def", (name,)))

    def claim(
        self, queue: str, worker_id: str, count: int, now: int, **kw: Any
    ) -> list[tuple[QueueEntry, tuple[RunState, str] | None]]:
        self.calls.append(("claim", (queue,)))
        taken, self.claimable = self.claimable[:count], self.claimable[count:]
        return [(e, (_state("stale"), "k")) for e in taken]

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def held(tx: FakeTx) -> HeldRun:
    return HeldRun(tx, _state(), "k")  # type: ignore[arg-type]


def test_the_run_is_read_from_memory_and_written_once_at_the_end():
    tx = FakeTx()
    run = held(tx)
    later = [_state(status=RunStatus.RUNNING), _state(status=RunStatus.COMPLETED)]
    for state in later:
        run.update_run(state)
        assert run.get_run("r1") == (state, "k")
    assert "update_run" not in tx.names()
    run.flush()
    run.flush()  # nothing changed since
    assert [c for c in tx.calls if c[0] == "update_run"] == [("update_run", (later[1],))]
    run.update_run(_state("other"))  # another run's write goes through at once
    assert tx.names()[-1] == "update_run"


def test_reads_are_not_writes_and_any_unknown_call_is():
    tx = FakeTx()
    run = held(tx)
    run.get_task_def("x")
    run.entry("t1")
    run.get_run("r1")
    assert run.writes == 0
    run.add_task_ids("r1", ["t3"])
    assert run.writes == 1
    run.publish_event("e")  # a name HeldRun does not know: counted, and the rows forgotten
    assert run.writes == 2
    run.entry("t1")
    assert tx.names().count("queue_entries") == 2


def test_queue_rows_are_read_once_and_again_only_once_written():
    tx = FakeTx()
    run = held(tx)
    assert run.entry("t1") == tx.rows["t1"] and run.entry("t2") == tx.rows["t2"]
    assert run.entry("nope") is None
    assert tx.names() == ["queue_entries"]
    run.extend_lease("t1", 9000)
    tx.rows["t1"] = _entry("t1", owner="w9")
    assert run.entry("t1") == tx.rows["t1"]  # read again after its write
    run.dequeue("t2")
    assert run.entry("t2") is None
    assert tx.names() == ["queue_entries", "extend_lease", "queue_entry", "dequeue"]


def test_an_empty_queue_is_not_claimed_from_again_until_a_task_is_queued():
    tx = FakeTx()
    run = held(tx)
    assert run.claim("work", "w1", 1, 0, lease_key=None) == []
    assert run.claim("work", "w1", 1, 0, lease_key=None) == []
    assert tx.names().count("claim") == 1
    run.enqueue("t3", "r1", "work", 0, 1000)
    [(entry, found)] = run.claim("work", "w1", 1, 0, lease_key=None)
    # A task of the held run comes with the run as it stands, not as its row holds it.
    assert entry.task_id == "t3" and found == (run.state, "k")
    assert tx.names().count("claim") == 2
