"""StoreTx contract: the notifications outbox and its delivery log, on SQLite and PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from podium.store.notifications_base import NotificationRow, NotificationState


def _row(key: str, next_at: int = 100, run_id: str | None = "r1", **fields: object):
    base: dict[str, object] = {
        "id": f"n-{key}",
        "dedupe_key": key,
        "channel": "webhook:abc",
        "kind": "webhook",
        "event": "run.failed",
        "run_id": run_id,
        "service": "payment",
        "target": {"kind": "webhook", "url": "http://x", "secret": "s"},
        "body": {"summary": "it failed"},
        "state": NotificationState.PENDING,
        "attempts": 0,
        "next_at": next_at,
        "last_error": None,
        "created_at": next_at,
        "updated_at": next_at,
    }
    return NotificationRow(**{**base, **fields})  # type: ignore[arg-type]


def test_a_notification_is_written_once_per_dedupe_key(db):
    assert db.add_notification(_row("run:r1#5:run.failed:webhook:abc")) is True
    again = _row("run:r1#5:run.failed:webhook:abc", id="n-other")
    assert db.add_notification(again) is False
    assert db.get_notification("n-other") is None
    got = db.get_notification("n-run:r1#5:run.failed:webhook:abc")
    assert got.target["secret"] == "s" and got.body == {"summary": "it failed"}


def test_due_notifications_come_oldest_first_and_only_when_due(db):
    db.add_notification(_row("b", next_at=200))
    db.add_notification(_row("a", next_at=100))
    db.add_notification(_row("c", next_at=300))
    db.add_notification(_row("d", next_at=50, state=NotificationState.DEAD))
    assert [r.dedupe_key for r in db.due_notifications(250, 10)] == ["a", "b"]
    assert [r.dedupe_key for r in db.due_notifications(250, 1)] == ["a"]
    assert db.next_notification_due() == 100
    db.set_notification(
        "n-a", state=NotificationState.SENT, attempts=1, next_at=260, last_error=None, now=260
    )
    assert db.next_notification_due() == 200


def test_attempts_are_logged_in_order_and_rows_listed_newest_first(db):
    db.add_notification(_row("a", next_at=100))
    db.add_notification(_row("b", next_at=200, run_id="r2"))
    db.add_notification_attempt("n-a", 110, False, "HTTP 500")
    db.add_notification_attempt("n-a", 120, True, "HTTP 200")
    assert db.notification_attempts("n-a") == [
        {"at": 110, "ok": False, "detail": "HTTP 500"},
        {"at": 120, "ok": True, "detail": "HTTP 200"},
    ]
    assert db.notification_attempts("n-b") == []
    assert [r.id for r in db.list_notifications(None, None, 10)] == ["n-b", "n-a"]
    assert [r.id for r in db.list_notifications(None, "r1", 10)] == ["n-a"]
    db.set_notification(
        "n-b", state=NotificationState.DEAD, attempts=8, next_at=300, last_error="x", now=300
    )
    dead = db.list_notifications(NotificationState.DEAD, None, 10)
    assert [(r.id, r.attempts, r.last_error) for r in dead] == [("n-b", 8, "x")]


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_notification_another_instance_holds_is_skipped(db):
    # PostgreSQL only: SQLite's one writer means no other transaction can hold the row.
    db.add_notification(_row("a", next_at=100))
    db.add_notification(_row("b", next_at=200))
    with psycopg.connect(db.store.url) as conn:
        conn.execute(f"SET search_path TO {db.store.schema}")
        conn.execute("SELECT 1 FROM notifications WHERE dedupe_key = 'a' FOR UPDATE")
        assert [r.dedupe_key for r in db.due_notifications(300, 10)] == ["b"]
    assert [r.dedupe_key for r in db.due_notifications(300, 10)] == ["a", "b"]


def test_old_sent_and_dead_notifications_go_with_their_attempts(db):
    db.add_notification(_row("sent", next_at=100, state=NotificationState.SENT))
    db.add_notification(_row("dead", next_at=110, state=NotificationState.DEAD))
    db.add_notification(_row("pending", next_at=50))
    db.add_notification(_row("new", next_at=900, state=NotificationState.SENT))
    db.add_notification_attempt("n-sent", 100, True, "HTTP 200")
    assert db.remove_old_notifications(500, 1) == 1
    assert db.remove_old_notifications(500, 10) == 1
    assert db.remove_old_notifications(500, 10) == 0
    left = sorted(r.dedupe_key for r in db.list_notifications(None, None, 10))
    assert left == ["new", "pending"]
    assert db.notification_attempts("n-sent") == []
