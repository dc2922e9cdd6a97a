"""StoreTx contract: schedules, their tick rows and the scheduler's pause, with the same
assertions on SQLite and PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from podium.store.schedules_base import TickQuery, TickRow, TickState


def _put(db, name="nightly", workflow="flow", *, next_tick=1_000, now=1, paused=False):
    return db.put_schedule(
        name,
        workflow,
        {"name": name, "cronExpression": "0 0 * * * ?"},
        paused=paused,
        paused_reason="by hand" if paused else None,
        next_tick_ms=next_tick,
        last_tick_ms=now,
        now=now,
    )


def _tick(name="nightly", nominal=1_000, state=TickState.RUNNING, run_id="r1", workflow="flow"):
    return TickRow(name, nominal, workflow, run_id, state, nominal + 5, None, nominal + 5)


def test_schedules_are_created_replaced_listed_and_deleted(db):
    assert db.get_schedule("nightly") is None
    assert _put(db, now=1) is True
    assert _put(db, "hourly", "other", now=2) is True
    db.advance_schedule(
        "nightly", next_tick_ms=2_000, last_tick_ms=1_000, consecutive_failures=2, now=3
    )
    assert _put(db, next_tick=5_000, now=4) is False
    got = db.get_schedule("nightly")
    assert got.workflow_name == "flow"
    assert got.body == {"name": "nightly", "cronExpression": "0 0 * * * ?"}
    assert (got.next_tick_ms, got.last_tick_ms, got.consecutive_failures) == (5_000, 4, 2)
    assert (got.created_at, got.updated_at) == (1, 4)
    assert [s.name for s in db.list_schedules()] == ["hourly", "nightly"]
    assert [s.name for s in db.list_schedules("other")] == ["hourly"]
    assert db.list_schedules("none") == []
    db.insert_tick(_tick())
    assert db.delete_schedule("nightly") is True
    assert db.delete_schedule("nightly") is False
    assert db.get_tick("nightly", 1_000) is None
    assert [s.name for s in db.list_schedules()] == ["hourly"]


def test_pausing_keeps_the_reason_and_resuming_sets_the_next_tick(db):
    _put(db)
    db.advance_schedule(
        "nightly", next_tick_ms=2_000, last_tick_ms=1_000, consecutive_failures=3, now=2
    )
    assert db.set_schedule_paused("nightly", True, "3 failed runs", 5, next_tick_ms=None)
    got = db.get_schedule("nightly", for_update=True)
    assert (got.paused, got.paused_reason, got.consecutive_failures) == (True, "3 failed runs", 3)
    assert db.next_schedule_due() is None
    assert db.set_schedule_paused("nightly", False, None, 6, next_tick_ms=9_000)
    got = db.get_schedule("nightly")
    assert (got.paused, got.paused_reason, got.next_tick_ms) == (False, None, 9_000)
    assert got.last_tick_ms == 6
    assert got.consecutive_failures == 0
    assert db.set_schedule_paused("none", True, None, 6, next_tick_ms=None) is False


def test_due_schedules_and_those_with_open_ticks_are_to_check(db):
    _put(db, "a", next_tick=1_000)
    _put(db, "b", next_tick=3_000)
    _put(db, "c", next_tick=500, paused=True)
    _put(db, "d", next_tick=None)
    assert db.next_schedule_due() == 1_000
    assert db.schedules_to_check(2_000, 10, ticking=True) == ["a"]
    assert db.schedules_to_check(3_000, 1, ticking=True) == ["a"]
    assert db.schedules_to_check(3_000, 10, ticking=True, after="a") == ["b"]
    db.insert_tick(_tick("d", 100, TickState.BUFFERED, None))
    db.insert_tick(_tick("c", 100, TickState.RUNNING, "r-c"))
    db.insert_tick(_tick("b", 100, "COMPLETED", "r-b"))
    assert db.schedules_to_check(3_000, 10, ticking=True) == ["a", "b", "c", "d"]
    assert db.schedules_to_check(3_000, 2, ticking=True, after="b") == ["c", "d"]
    assert db.schedules_to_check(3_000, 10, ticking=False) == ["c", "d"]


def test_a_locked_schedule_is_read_whole(db):
    _put(db)
    got = db.lock_schedule("nightly")
    assert got is not None and got.name == "nightly"
    assert db.lock_schedule("none") is None


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_schedule_held_by_another_transaction_is_skipped(db):
    # PostgreSQL only: SQLite's one writer means no other transaction can hold the row.
    _put(db)
    # A second connection holds the row, as another instance acting on it would.
    with psycopg.connect(db.store.url) as conn:
        conn.execute(f"SET search_path TO {db.store.schema}")
        conn.execute("SELECT 1 FROM schedules WHERE name = 'nightly' FOR UPDATE")
        assert db.lock_schedule("nightly") is None
    assert db.lock_schedule("nightly") is not None


def test_a_tick_is_recorded_once(db):
    _put(db)
    assert db.insert_tick(_tick(run_id="r1")) is True
    assert db.insert_tick(_tick(run_id="r2")) is False
    assert db.get_tick("nightly", 1_000).run_id == "r1"
    db.update_tick(
        "nightly", 1_000, state="FAILED", run_id="r1", started_ms=1_005, reason="boom", now=2_000
    )
    got = db.get_tick("nightly", 1_000)
    assert (got.state, got.reason, got.updated_at) == ("FAILED", "boom", 2_000)
    assert db.get_tick("nightly", 2_000) is None


def test_open_and_recent_ticks(db):
    _put(db)
    db.insert_tick(_tick(nominal=3_000, state=TickState.BUFFERED, run_id=None))
    db.insert_tick(_tick(nominal=1_000, state="COMPLETED"))
    db.insert_tick(_tick(nominal=2_000, state=TickState.RUNNING, run_id="r2"))
    db.insert_tick(_tick("other", 2_500, TickState.RUNNING, "r9"))
    assert [t.nominal_ms for t in db.open_ticks("nightly")] == [2_000, 3_000]
    assert [t.nominal_ms for t in db.recent_ticks("nightly", 2)] == [3_000, 2_000]


def test_ticks_are_searched_filtered_sorted_and_paged(db):
    db.insert_tick(_tick("a", 1_000, "COMPLETED", "run-1", "flow"))
    db.insert_tick(_tick("a", 2_000, TickState.SKIPPED, None, "flow"))
    db.insert_tick(_tick("b", 1_500, TickState.RUNNING, "run-3", "other"))
    total, rows = db.search_ticks(TickQuery())
    assert total == 3
    assert [(t.schedule_name, t.nominal_ms) for t in rows] == [
        ("a", 2_000),
        ("b", 1_500),
        ("a", 1_000),
    ]
    total, rows = db.search_ticks(TickQuery(workflow_names=("flow",), start=1, size=1))
    assert total == 2 and [t.nominal_ms for t in rows] == [1_000]
    total, rows = db.search_ticks(
        TickQuery(states=("RUNNING", "COMPLETED"), order=(("scheduledTime", False),))
    )
    assert [t.nominal_ms for t in rows] == [1_000, 1_500]
    total, rows = db.search_ticks(TickQuery(schedule_names=("b",)))
    assert [t.run_id for t in rows] == ["run-3"]
    total, rows = db.search_ticks(TickQuery(text="RUN-1"))
    assert total == 1 and rows[0].run_id == "run-1"


def test_every_schedule_can_be_paused_at_once(db):
    assert db.schedules_paused() is False
    db.set_schedules_paused(True)
    assert db.schedules_paused() is True
    db.set_schedules_paused(False)
    assert db.schedules_paused() is False


def test_old_ticks_go_but_open_ones_stay(db):
    db.insert_tick(_tick("a", 1_000, "COMPLETED", "r1"))
    db.insert_tick(_tick("a", 2_000, TickState.SKIPPED, None))
    db.insert_tick(_tick("a", 2_500, TickState.RUNNING, "r3"))
    db.insert_tick(_tick("b", 2_600, TickState.BUFFERED, None))
    db.insert_tick(_tick("b", 3_000, "FAILED", "r4"))
    assert db.remove_old_ticks(3_000, 1) == 1
    assert db.get_tick("a", 1_000) is None
    assert db.remove_old_ticks(3_000, 10) == 1
    assert db.remove_old_ticks(3_000, 10) == 0
    _, rows = db.search_ticks(TickQuery(order=(("scheduledTime", False),)))
    assert [t.nominal_ms for t in rows] == [2_500, 2_600, 3_000]
