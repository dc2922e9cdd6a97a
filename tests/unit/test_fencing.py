"""Which results may complete a lease (``server.fencing``), without a server."""

from __future__ import annotations

import pytest

from podium.errors import LeaseLostError
from podium.server.fencing import ANONYMOUS, OPEN, check_lease, lease_key
from podium.store.base import QueueEntry


def _entry(
    owner: str | None = "worker-b",
    *,
    polls: int = 2,
    token: str | None = "token-b",
    key: str | None = OPEN,
) -> QueueEntry:
    return QueueEntry(
        task_id="t-1",
        run_id="r-1",
        queue="slow",
        available_at=0,
        response_timeout_ms=1000,
        lease_owner=owner,
        lease_until=None if owner is None else 5000,
        poll_count=polls,
        started_at=10,
        lease_token=token,
        lease_key=key,
    )


def _refused(entry: QueueEntry | None, worker: str | None, token: str | None, key: str) -> str:
    with pytest.raises(LeaseLostError) as caught:
        check_lease("t-1", entry, worker, token, key)
    assert "token-b" not in caught.value.message  # a refusal never tells the token
    return caught.value.message


def test_the_current_token_is_accepted_whatever_the_worker_id() -> None:
    for worker in (None, "worker-b", "someone-else"):
        check_lease("t-1", _entry(), worker, "token-b", OPEN)
        check_lease("t-1", _entry(key=None), worker, "token-b", "another-key")


def test_an_earlier_leases_token_is_refused() -> None:
    message = _refused(_entry(), "worker-b", "token-a", OPEN)
    assert "later lease" in message


def test_without_the_token_the_holder_is_known_by_key_and_worker_id() -> None:
    check_lease("t-1", _entry(key="key-b"), "worker-b", None, "key-b")
    assert "another key" in _refused(_entry(key="key-b"), "worker-b", None, "key-a")
    assert "not worker-a" in _refused(_entry(key="key-b"), "worker-a", None, "key-b")
    # No worker id is the id a poll without one is leased under.
    assert "not anonymous" in _refused(_entry(), None, None, OPEN)
    check_lease("t-1", _entry(ANONYMOUS), None, None, OPEN)


def test_a_lease_handed_out_once_takes_any_worker_id_from_its_key() -> None:
    # Conductor's SDKs let worker code put its own workerId in a result.
    check_lease("t-1", _entry(polls=1), "custom-id", None, OPEN)
    check_lease("t-1", _entry(polls=1), None, None, OPEN)
    _refused(_entry(polls=1, key="key-b"), "custom-id", None, "key-a")


def test_a_lease_whose_claimer_sends_the_token_takes_nothing_without_it() -> None:
    strict = _entry(key=lease_key("key-b", sends_token=True))
    for worker in ("worker-b", None):
        assert "leaseToken" in _refused(strict, worker, None, "key-b")
    _refused(_entry(polls=1, key=None), "worker-b", None, OPEN)


def test_a_task_nobody_holds_takes_a_late_result() -> None:
    for worker, token in ((None, None), ("worker-a", "token-a"), ("worker-a", None)):
        check_lease("t-1", None, worker, token, OPEN)
        check_lease("t-1", _entry(None, key=None), worker, token, "key-a")


def test_the_lease_key_is_the_callers_unless_it_sends_the_token() -> None:
    assert lease_key("key-b", sends_token=False) == "key-b"
    assert lease_key(OPEN, sends_token=False) == OPEN
    assert lease_key("key-b", sends_token=True) is None
