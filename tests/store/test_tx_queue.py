"""StoreTx contract: the queue (enqueue, claim, leases, expiry, release, defer, readiness),
rate windows and timers, with the same assertions on SQLite and PostgreSQL."""

from __future__ import annotations

from podium.engine.state import RunState, RunStatus


def a_run(db, run_id: str = "r1") -> RunState:
    state = RunState(run_id, "wf", 1, RunStatus.RUNNING, 100)
    db.insert_run(state, "def-key")
    return state


def test_an_enqueued_task_is_an_unleased_entry(db):
    assert db.queue_entry("t1") is None
    db.enqueue("t1", "r1", "q", 50, 1000)
    entry = db.queue_entry("t1")
    assert (entry.task_id, entry.run_id, entry.queue, entry.available_at) == ("t1", "r1", "q", 50)
    assert entry.response_timeout_ms == 1000
    assert (entry.lease_owner, entry.lease_until, entry.poll_count, entry.started_at) == (
        None,
        None,
        0,
        None,
    )
    db.enqueue("t2", "r1", "q", 60, 1000)
    db.enqueue("t3", "r2", "q", 60, 1000)
    assert sorted(e.task_id for e in db.queue_entries("r1")) == ["t1", "t2"]
    db.dequeue("t1")
    assert db.queue_entry("t1") is None
    assert [e.task_id for e in db.queue_entries("r1")] == ["t2"]


def test_claim_leases_the_oldest_available_tasks_with_their_runs(db):
    state = a_run(db)
    db.enqueue("late", "r1", "q", 300, 1000)
    db.enqueue("second", "r1", "q", 20, 1000)
    db.enqueue("first", "r1", "q", 10, 500)
    db.enqueue("elsewhere", "r1", "other", 0, 1000)
    claimed = db.claim("q", "w1", 5, 200, lease_key="key-1")
    assert [entry.task_id for entry, _ in claimed] == ["first", "second"]
    entry, run = claimed[0]
    assert (entry.lease_owner, entry.lease_until, entry.poll_count, entry.started_at) == (
        "w1",
        700,
        1,
        200,
    )
    assert entry.lease_key == "key-1" and entry.lease_token
    assert run is not None and run[0].run_id == state.run_id and run[1] == "def-key"
    assert db.queue_entry("first") == entry
    assert db.claim("q", "w2", 5, 250, lease_key=None) == []  # leased ones are not handed out


def test_claim_hands_out_higher_priorities_first_then_the_oldest(db):
    a_run(db)
    db.enqueue("old_low", "r1", "q", 10, 1000)
    db.enqueue("new_high", "r1", "q", 30, 1000, 90)
    db.enqueue("old_high", "r1", "q", 20, 1000, 90)
    db.enqueue("mid", "r1", "q", 5, 1000, 40)
    db.enqueue("later_high", "r1", "q", 500, 1000, 99)  # not available yet
    first = db.claim("q", "w", 1, 100, lease_key=None)
    rest = db.claim("q", "w", 5, 100, lease_key=None)
    order = [entry.task_id for entry, _ in first + rest]
    assert order == ["old_high", "new_high", "mid", "old_low"]
    db.enqueue("old_low", "r1", "q", 10, 1000, 7)  # enqueued afresh: its new priority holds
    db.enqueue("plain", "r1", "q", 1, 1000)
    assert [e.task_id for e, _ in db.claim("q", "w", 5, 100, lease_key=None)] == [
        "old_low",
        "plain",
    ]


def test_claim_takes_at_most_count_and_a_fresh_token_each_time(db):
    a_run(db)
    for n in range(3):
        db.enqueue(f"t{n}", "r1", "q", n, 1000)
    first = db.claim("q", "w", 2, 100, lease_key=None)
    assert [entry.task_id for entry, _ in first] == ["t0", "t1"]
    assert first[0][0].lease_key is None
    db.release_lease("t0")
    again = db.claim("q", "w", 2, 100, lease_key=None)
    assert [entry.task_id for entry, _ in again] == ["t0", "t2"]
    assert again[0][0].lease_token != first[0][0].lease_token
    assert again[0][0].poll_count == 2 and again[0][0].started_at == 100


def test_claim_skips_the_run_the_caller_already_has(db):
    a_run(db)
    db.enqueue("t", "r1", "q", 0, 1000)
    [(entry, run)] = db.claim("q", "w", 1, 10, lease_key=None, known_run="r1")
    assert entry.task_id == "t" and run is None


def test_a_claimed_task_of_a_missing_run_comes_without_one(db):
    db.enqueue("t", "gone", "q", 0, 1000)
    [(entry, run)] = db.claim("q", "w", 1, 10, lease_key=None)
    assert entry.run_id == "gone" and run is None


def test_leases_are_extended_expired_and_released(db):
    a_run(db)
    db.enqueue("a", "r1", "q", 0, 100)
    db.enqueue("b", "r1", "q", 0, 300)
    db.enqueue("idle", "r1", "q", 0, 100)
    db.claim("q", "w", 2, 0, lease_key=None)  # a until 100, b until 300
    assert db.next_lease_expiry() == 100
    db.extend_lease("a", 500)
    db.extend_lease("idle", 999)  # not leased: stays unleased
    assert db.queue_entry("idle").lease_until is None
    assert db.next_lease_expiry() == 300
    assert [e.task_id for e in db.expired_leases(600, 10)] == ["b", "a"]
    assert [e.task_id for e in db.expired_leases(600, 1)] == ["b"]
    assert db.expired_leases(299, 10) == []
    db.release_lease("b", 700)
    released = db.queue_entry("b")
    assert (released.lease_owner, released.lease_until, released.available_at) == (None, None, 700)
    assert released.poll_count == 1  # released, not un-polled
    db.release_lease("a")
    assert db.queue_entry("a").available_at == 0
    assert db.next_lease_expiry() is None


def test_defer_undoes_the_claim(db):
    a_run(db)
    db.enqueue("t", "r1", "q", 0, 100)
    db.claim("q", "w", 1, 10, lease_key=None)
    db.defer("t", 50)
    entry = db.queue_entry("t")
    assert (entry.lease_owner, entry.available_at, entry.poll_count, entry.started_at) == (
        None,
        50,
        0,
        None,
    )
    db.claim("q", "w", 1, 60, lease_key=None)
    db.release_lease("t")
    db.claim("q", "w", 1, 70, lease_key=None)
    db.defer("t", 80)  # polled twice: the first poll's start stays
    entry = db.queue_entry("t")
    assert (entry.poll_count, entry.started_at, entry.available_at) == (1, 60, 80)


def test_enqueueing_again_starts_the_entry_afresh(db):
    a_run(db)
    db.enqueue("t", "r1", "q", 0, 100)
    db.claim("q", "w", 1, 10, lease_key="k")
    db.enqueue("t", "r1", "q2", 40, 200)
    entry = db.queue_entry("t")
    assert (entry.queue, entry.available_at, entry.response_timeout_ms) == ("q2", 40, 200)
    assert (entry.lease_owner, entry.lease_until, entry.poll_count, entry.started_at) == (
        None,
        None,
        0,
        None,
    )


def test_what_is_ready_and_when(db):
    a_run(db)
    db.enqueue("now", "r1", "a", 10, 100)
    db.enqueue("soon", "r1", "b", 20, 100)
    db.enqueue("later", "r1", "c", 40, 100)
    db.enqueue("leased", "r1", "d", 0, 100)
    db.claim("d", "w", 1, 0, lease_key=None)
    assert db.next_available_at(10) == 20
    assert db.next_available_at(40) is None
    assert sorted(db.queues_ready_between(10, 40)) == ["b", "c"]
    assert db.queues_ready_between(5, 10) == ["a"]
    assert db.queues_ready_between(40, 100) == []
    assert db.queue_sizes(None) == {"a": 1, "b": 1, "c": 1}  # leased tasks do not count
    assert db.queue_sizes(["a", "d", "none"]) == {"a": 1, "d": 0, "none": 0}
    assert db.count_leased("d") == 1 and db.count_leased("a") == 0


def test_the_backlog_counts_ready_unleased_tasks_and_the_oldest_ready_time(db):
    a_run(db)
    db.enqueue("a1", "r1", "a", 10, 100)
    db.enqueue("a2", "r1", "a", 30, 100)
    db.enqueue("a_later", "r1", "a", 90, 100)  # a retry waiting out its delay
    db.enqueue("b1", "r1", "b", 25, 100)
    db.enqueue("leased", "r1", "b", 5, 100)
    db.claim("b", "w", 1, 40, lease_key=None)  # takes the oldest: "leased"
    assert db.queue_backlog(50) == {"a": (2, 10), "b": (1, 25)}
    assert db.queue_backlog(100) == {"a": (3, 10), "b": (1, 25)}
    assert db.queue_backlog(0) == {}


def test_queue_locks_and_ready_notes_are_accepted_in_a_unit(db):
    def unit(tx):
        tx.lock_queue("q")
        tx.lock_queue("q")  # twice in one unit: the lock is the unit's already
        tx.announce_ready(["q", "r"])
        return tx.count_leased("q")

    assert db.unit(unit) == 0


def test_rate_windows_are_kept_per_queue(db):
    assert db.rate_window("q") is None
    db.put_rate_window("q", 1000, 1)
    db.put_rate_window("q", 1000, 2)
    db.put_rate_window("other", 5, 9)
    assert db.rate_window("q") == (1000, 2)
    db.put_rate_window("q", 2000, 0)
    assert db.rate_window("q") == (2000, 0)
    assert db.rate_window("other") == (5, 9)


def test_timers_are_put_moved_taken_and_deleted(db):
    a_run(db, "r1")
    a_run(db, "r2")
    assert db.next_timer_due() is None
    db.put_timer("r1", "wait", 300)
    db.put_timer("r1", "wait", 30)  # moved
    db.put_timer("r2", "wait", 20)
    db.put_timer("r2", "other", 500)
    db.put_timer("r1", "gone", 10)
    db.delete_timer("r1", "gone")
    assert db.next_timer_due() == 20
    assert db.take_due_timers(100, 1) == [("r2", "wait")]
    assert db.take_due_timers(100, 10) == [("r1", "wait")]
    assert db.take_due_timers(100, 10) == []  # taken means gone
    assert db.next_timer_due() == 500
