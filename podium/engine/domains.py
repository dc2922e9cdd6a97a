"""Task domains: which queue of a task type a run's worker task goes to (Conductor's
``taskToDomain``).

A run started with ``taskToDomain`` puts a task whose type maps to a domain (or every worker
task, under ``"*"``) on the queue ``<domain>:<type>``, which only workers polling with that
domain are handed. A mapping may list fallbacks (``"a,b,NO_DOMAIN"``): the first domain a
worker has polled in the last ten seconds, else the last one listed, where ``NO_DOMAIN`` means
the type's own queue. Whether a domain has such a worker is a fact about the world, not the
run; the caller hands it in as ``Polled``, read once for the decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["ACTIVE_POLL_WINDOW_MS", "NO_DOMAIN", "Polled", "domain_for", "queue_name"]

NO_DOMAIN = "NO_DOMAIN"
ACTIVE_POLL_WINDOW_MS = 10_000
"""A domain counts as served when a worker polled it this recently (Conductor's default
``activeWorkerLastPollTimeout``)."""

Polled = Callable[[str, str], bool]
"""``(task type, domain)`` -> a worker polled that domain's queue of the type lately."""


def never_polled(task_type: str, domain: str) -> bool:
    return False


def queue_name(task_type: str, domain: str | None) -> str:
    """The queue workers of ``task_type`` in ``domain`` poll (Conductor's ``domain:type``)."""
    return f"{domain}:{task_type}" if domain else task_type


def domain_for(
    task_to_domain: Mapping[str, str], task_type: str, polled: Polled = never_polled
) -> str | None:
    """The domain a task of ``task_type`` is queued in, or None for the type's own queue.

    A mapping for the type itself wins over ``"*"``, as Conductor applies ``"*"`` first and
    then overrides it with the type's own entry."""
    spec = task_to_domain.get(task_type)
    if spec is None:
        spec = task_to_domain.get("*")
        if spec is None or not spec.strip():
            return None
    domains = [name.strip() for name in spec.split(",")]
    for name in domains:
        if name and name.upper() != NO_DOMAIN and polled(task_type, name):
            return name
    last = domains[-1]
    return None if not last or last.upper() == NO_DOMAIN else last
