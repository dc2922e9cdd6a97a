"""Fencing: a result (or heartbeat) counts only if it comes from the task's current lease.

Every claim hands the worker a fresh random ``leaseToken`` with the task; no other route shows
it. A result that carries it is checked against the lease in force, so a worker whose task was
handed to another since (it postponed it, ``callbackAfterSeconds``) gets 409, whatever worker id
it names. (A lease that runs out ends the attempt itself: see ``leases``.)

Conductor's SDKs send back only the task's id and their own worker id, never the token. A
result without it is taken as the holder's only when it could be nobody else's: sent with
the key that claimed the lease, naming the worker that holds it (a task handed out just once
may be reported under another worker id: the SDKs let worker code set its own). A claimer
that promises to send the token back (Podium's SDK, with ``requireLeaseToken``) gets a lease
that only the token completes: then a worker id, which anyone may read, is worth nothing.

A postponed task that nobody has claimed since takes a late result, as Conductor does: it is
stale against nobody.
"""

from __future__ import annotations

import hmac

from podium.errors import LeaseLostError
from podium.store.base import QueueEntry

__all__ = ["ANONYMOUS", "OPEN", "check_lease", "lease_key"]

OPEN = ""
"""The key every caller has while auth is off."""
ANONYMOUS = "anonymous"
"""The worker id of a poll or a result that names none."""


def lease_key(key: str, sends_token: bool) -> str | None:
    """What a claim records as the lease's key: the claimer's, or None when it sends the
    token back and a result without it must be refused."""
    return None if sends_token else key


def check_lease(
    task_id: str, entry: QueueEntry | None, worker_id: str | None, token: str | None, key: str
) -> None:
    """Raise ``LeaseLostError`` unless a result with ``token`` (or none), naming
    ``worker_id`` and sent with ``key``, may complete the lease ``entry`` holds."""
    if entry is None or entry.lease_owner is None:
        return  # not leased (never claimed, or postponed): stale against nobody
    owner = entry.lease_owner
    if token is not None:
        # Compared in constant time: how long a refusal takes says nothing about the token.
        if entry.lease_token is None or not hmac.compare_digest(token, entry.lease_token):
            raise LeaseLostError(
                f"task {task_id} is leased to worker {owner} under a later lease than the "
                "one this result was done under: it was handed out again since",
                service="server",
                field="leaseToken",
            )
        return
    if entry.lease_key is None:
        raise LeaseLostError(
            f"task {task_id} is leased to worker {owner}, whose results carry the lease's "
            "leaseToken: a result without it is not that lease's",
            service="server",
            field="leaseToken",
        )
    if not hmac.compare_digest(key, entry.lease_key):
        raise LeaseLostError(
            f"task {task_id} is leased to worker {owner} under another key: a result "
            "without the leaseToken must be sent with the key that claimed the task",
            service="server",
        )
    named = worker_id or ANONYMOUS
    if named != owner and entry.poll_count > 1:
        raise LeaseLostError(
            f"task {task_id} is leased to worker {owner}, not {named}: "
            "it was handed out again since",
            service="server",
            field="workerId",
        )
