"""Retention: ended runs past their age leave the live tables (deleted or archived);
running ones stay whatever their age."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.behaviour.event_helpers import publish
from tests.behaviour.helpers import complete, poll, register, start, wait_status

FLOW = {
    "name": "kept_briefly",
    "tasks": [{"name": "brief_step", "taskReferenceName": "step", "type": "SIMPLE"}],
}


def _not_found(api: httpx.Client, path: str, timeout: float = 10) -> bool:
    """Whether ``path`` answers 404 within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get(path).status_code == 404:
            return True
        time.sleep(0.1)
    return False


def _gone(api: httpx.Client, run_id: str) -> bool:
    return _not_found(api, f"/api/workflow/{run_id}")


@pytest.mark.parametrize("mode", ["delete", "archive"])
def test_ended_runs_are_removed_and_running_ones_kept(store_choice, mode):
    settings = {"retention_days": 0, "retention_interval_s": 0.2, "retention_mode": mode}
    with store_choice.server(retention_batch=2, **settings) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            register(api, FLOW)
            ended = [start(api, "kept_briefly") for _ in range(5)]
            for _ in ended:
                (task,) = poll(api, "brief_step")
                assert complete(api, task).status_code == 200
            running = start(api, "kept_briefly")
            for run_id in ended:
                assert _gone(api, run_id), f"run {run_id} was kept"
            time.sleep(0.5)  # several more retention passes
            assert wait_status(api, running, {"RUNNING"})["status"] == "RUNNING"
    archived = store_choice.query("SELECT run_id, status FROM archived_runs")
    if mode == "archive":
        assert sorted(archived) == sorted((run_id, "COMPLETED") for run_id in ended)
    else:
        assert archived == []
    leftovers = store_choice.query("SELECT COUNT(*) FROM tasks")
    assert leftovers == [(1,)]  # only the running run's task


def test_a_bad_retention_mode_is_refused_at_start(store_choice):
    from podium.errors import ValidationError

    with pytest.raises(ValidationError, match="retention mode"):
        store_choice.server(retention_days=1, retention_mode="shred")


def test_a_removed_runs_idempotency_key_starts_a_new_run(store_choice):
    settings = {"retention_days": 0, "retention_interval_s": 0.2}
    with store_choice.server(**settings) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            register(api, FLOW)
            first = start(api, "kept_briefly", idempotencyKey="order-7")
            (task,) = poll(api, "brief_step")
            assert complete(api, task).status_code == 200
            assert _gone(api, first)
            second = start(api, "kept_briefly", idempotencyKey="order-7")
            assert second != first
            assert wait_status(api, second, {"RUNNING"})["status"] == "RUNNING"
            assert start(api, "kept_briefly", idempotencyKey="order-7") == second
    assert store_choice.query("SELECT run_id FROM idempotency") == [(second,)]


def _event_gone(api: httpx.Client, event_id: str) -> bool:
    return _not_found(api, f"/api/events/id/{event_id}")


@pytest.mark.parametrize("mode", ["delete", "archive"])
def test_settled_events_past_the_age_go_and_pending_ones_stay(store_choice, mode):
    settings = {"retention_days": 0, "retention_interval_s": 0.2, "retention_mode": mode}
    with store_choice.server(retention_batch=2, **settings) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            subscribed = api.post("/api/subscriptions", json={"name": "books", "topic": "order.*"})
            assert subscribed.status_code == 200, subscribed.text
            acked = [publish(api, "order.paid", {"o": i})["id"] for i in range(3)]
            pending = publish(api, "order.shipped", {"o": 9})["id"]
            unheard = [publish(api, "misc.noted", {"n": i})["id"] for i in range(3)]
            leased = api.get("/api/subscriptions/books/poll", params={"count": 10}).json()
            assert len(leased) == 4
            for event_id in acked:
                done = api.post("/api/subscriptions/books/ack", json={"eventId": event_id})
                assert done.json()["status"] == "DONE"
            if mode == "delete":
                for event_id in acked + unheard:
                    assert _event_gone(api, event_id), f"event {event_id} was kept"
            time.sleep(0.6)  # several more retention passes
            kept = api.get(f"/api/events/id/{pending}")
            assert kept.status_code == 200
            assert [d["status"] for d in kept.json()["deliveries"]] == ["PENDING"]
            if mode == "archive":
                for event_id in acked + unheard:
                    assert api.get(f"/api/events/id/{event_id}").status_code == 200
    left = store_choice.query("SELECT COUNT(*) FROM events")
    deliveries = store_choice.query("SELECT COUNT(*) FROM event_deliveries")
    assert (left, deliveries) == (([(1,)], [(1,)]) if mode == "delete" else ([(7,)], [(4,)]))
