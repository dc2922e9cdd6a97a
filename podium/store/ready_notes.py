"""What instances sharing one PostgreSQL database tell each other when they queue tasks.

A note is ``"<origin> <queue>"``: the origin names the store that queued the task, so the
instance that sent it can skip its own notes. It has woken its own polls already, after its
commit; hearing the note again would only send each woken poll on an empty claim.
"""

from __future__ import annotations

import uuid

__all__ = ["new_origin", "note_for", "queue_heard"]


def new_origin() -> str:
    """A name for one store in one process: hex digits, so it never holds the separator."""
    return uuid.uuid4().hex[:16]


def note_for(origin: str, queue: str) -> str:
    return f"{origin} {queue}"


def queue_heard(payload: str, origin: str) -> str | None:
    """The queue a note is about, or None when ``origin`` sent it itself."""
    sender, separator, queue = payload.partition(" ")
    if not separator:
        return payload  # from a store that does not say who it is: take it as it comes
    return None if sender == origin else queue
