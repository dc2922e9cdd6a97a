"""Resilience at dispatch: what may be handed out, and what a result teaches the breaker.

Used by the orchestrator inside its units of work, so everything here reads and writes
through the transaction and may run again if the unit is retried. Services and task
definitions are cached per definitions generation, like resolved workflow definitions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from podium.dsl import expressions
from podium.dsl.models import TaskDef, WorkflowTask
from podium.dsl.services import OnCircuitOpen, Service, attribution
from podium.engine.state import TaskState, TaskStatus
from podium.resilience.breaker import Admission, BreakerState, Transition, admit, record
from podium.store.base import StoreTx

__all__ = ["Gate", "ResiliencePolicy", "Verdict", "failed_fast_reason", "log_transition"]

log = logging.getLogger("podium.resilience")

_FAILURES = frozenset({TaskStatus.FAILED, TaskStatus.TIMED_OUT})
_UNTIL_RETRY_MS = 1000
"""How long a held task waits when the breaker gives no time (a half-open breaker's probes
are all out): about the time a trial call takes to report."""


def failed_fast_reason(service_name: str) -> str:
    """How the reason of a task failed at once by the service's open breaker begins."""
    return f"the circuit breaker of service {service_name} is open"


class Verdict:
    HAND_OUT = "hand_out"
    HOLD = "hold"
    FAIL = "fail"
    CACHED = "cached"


@dataclass(frozen=True, slots=True)
class Gate:
    """What to do with one claimed task."""

    verdict: str
    until: int = 0
    reason: str = ""
    output: dict[str, Any] | None = None
    transition: tuple[str, Transition] | None = None


class ResiliencePolicy:
    def __init__(self) -> None:
        self._generation = -1
        self._services: dict[str, Service] = {}
        self._task_defs: dict[str, TaskDef | None] = {}

    # ---- cached registry ------------------------------------------------------------------

    def _refresh(self, tx: StoreTx) -> None:
        generation = tx.definitions_generation()
        if generation != self._generation:
            self._services = {
                body["name"]: Service.model_validate(body) for body in tx.list_services()
            }
            self._task_defs = {}
            self._generation = generation

    def services(self, tx: StoreTx) -> dict[str, Service]:
        self._refresh(tx)
        return self._services

    def _task_def(self, tx: StoreTx, name: str) -> TaskDef | None:
        name = name.rpartition(":")[2]  # a domain's queue, ``domain:type``, has its type's limits
        self._refresh(tx)
        if name not in self._task_defs:
            body = tx.get_task_def(name)
            self._task_defs[name] = TaskDef.model_validate(body) if body else None
        return self._task_defs[name]

    @staticmethod
    def service_of(step: WorkflowTask) -> str | None:
        if step.service:
            return step.service
        return step.taskDefinition.service if step.taskDefinition else None

    def describe(self, tx: StoreTx, service_name: str | None) -> str:
        """Who is behind ``service_name``, for a failure message."""
        service = self.services(tx).get(service_name) if service_name else None
        return attribution(service_name, service)

    # ---- limits ---------------------------------------------------------------------------

    def claimable(self, tx: StoreTx, queue: str, wanted: int, now: int) -> int:
        """How many tasks of ``queue`` may be handed out now (concurrency and rate limits)."""
        task_def = self._task_def(tx, queue)
        if task_def is None:
            return wanted
        limit = task_def.concurrentExecLimit
        per = task_def.rateLimitPerFrequency
        window_s = task_def.rateLimitFrequencyInSeconds
        rate_limited = bool(per and window_s)
        if not limit and not rate_limited:
            return wanted
        tx.lock_queue(queue)
        allowed = wanted
        if limit:
            allowed = min(allowed, max(0, limit - tx.count_leased(queue)))
        if rate_limited:
            assert per is not None and window_s is not None
            window = tx.rate_window(queue)
            used = 0
            if window is not None and now - window[0] < window_s * 1000:
                used = window[1]
            allowed = min(allowed, max(0, per - used))
        return allowed

    def count_dispatched(self, tx: StoreTx, queue: str, handed: int, now: int) -> None:
        """Charge ``handed`` tasks to the queue's rate window."""
        task_def = self._task_def(tx, queue)
        if task_def is None or not handed:
            return
        per, window_s = task_def.rateLimitPerFrequency, task_def.rateLimitFrequencyInSeconds
        if not (per and window_s):
            return
        window = tx.rate_window(queue)
        if window is None or now - window[0] >= window_s * 1000:
            tx.put_rate_window(queue, now, handed)
        else:
            tx.put_rate_window(queue, window[0], window[1] + handed)

    # ---- per task -------------------------------------------------------------------------

    def gate(self, tx: StoreTx, task: TaskState, step: WorkflowTask, now: int) -> Gate:
        """Cache hit, open breaker, or hand the task out."""
        cached = self._cached(tx, task, step, now)
        if cached is not None:
            return Gate(Verdict.CACHED, output=cached)
        service_name = self.service_of(step)
        if service_name is None:
            return Gate(Verdict.HAND_OUT)
        service = self.services(tx).get(service_name)
        if service is None or service.circuitBreaker is None:
            return Gate(Verdict.HAND_OUT)
        config = service.circuitBreaker
        before = BreakerState.from_dict(tx.get_breaker(service_name, for_update=True))
        admission, after, transition = admit(before, config, now)
        if after != before:
            tx.put_breaker(service_name, after.to_dict(), now)
        moved = self._transition(tx, service_name, transition, now)
        if admission != Admission.DENY:
            return Gate(Verdict.HAND_OUT, transition=moved)
        choice = step.onCircuitOpen or (
            step.taskDefinition.onCircuitOpen if step.taskDefinition else None
        )
        choice = choice or service.onCircuitOpen
        reason = (
            f"{failed_fast_reason(service_name)} ({service.whom_to_call()}); the task was not sent"
        )
        if choice == OnCircuitOpen.FAIL or (choice == OnCircuitOpen.SKIP and step.optional):
            return Gate(Verdict.FAIL, reason=reason, transition=moved)
        until = after.reopens_at(config) or now + _UNTIL_RETRY_MS
        return Gate(Verdict.HOLD, until=max(until, now + 1), transition=moved)

    def _cache_key(self, task: TaskState, step: WorkflowTask) -> str | None:
        config = step.cacheConfig
        if config is None:
            return None
        context = {"input": task.input, **task.input}
        try:
            key = expressions.resolve(config.key, context)
        except Exception:  # an unresolvable key means no caching, never a failed task
            log.warning("cache key %r of task %s could not be resolved", config.key, task.ref)
            return None
        return f"{task.name}:{key}"

    def _cached(
        self, tx: StoreTx, task: TaskState, step: WorkflowTask, now: int
    ) -> dict[str, Any] | None:
        key = self._cache_key(task, step)
        return tx.get_cached_result(key, now) if key is not None else None

    def after_result(
        self,
        tx: StoreTx,
        task: TaskState,
        step: WorkflowTask,
        status: TaskStatus,
        output: dict[str, Any],
        reason: str | None,
        now: int,
    ) -> tuple[str, Transition] | None:
        """Cache a completed task's output; tell the service's breaker how the call went.

        Returns the breaker's transition, if the result moved it."""
        if status == TaskStatus.COMPLETED and step.cacheConfig is not None:
            key = self._cache_key(task, step)
            if key is not None:
                tx.put_cached_result(key, output, now + step.cacheConfig.ttlInSeconds * 1000)
        service_name = self.service_of(step)
        if service_name is None or not (status in _FAILURES or status == TaskStatus.COMPLETED):
            return None
        service = self.services(tx).get(service_name)
        if service is None or service.circuitBreaker is None:
            return None
        before = BreakerState.from_dict(tx.get_breaker(service_name, for_update=True))
        after, transition = record(
            before, service.circuitBreaker, status in _FAILURES, now, reason or ""
        )
        if after != before:
            tx.put_breaker(service_name, after.to_dict(), now)
        return self._transition(tx, service_name, transition, now)

    @staticmethod
    def _transition(
        tx: StoreTx, service: str, transition: Transition | None, now: int
    ) -> tuple[str, Transition] | None:
        if transition is None:
            return None
        tx.add_breaker_event(
            service, now, transition.from_state, transition.to_state, transition.reason
        )
        return service, transition


def log_transition(service: str, transition: Transition) -> None:
    """After the commit: every breaker transition is a log line (and later a metric)."""
    log.warning(
        "circuit breaker of service %s: %s -> %s (%s)",
        service,
        transition.from_state,
        transition.to_state,
        transition.reason,
    )
