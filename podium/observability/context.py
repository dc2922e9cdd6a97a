"""Ids that follow a unit of work: request, correlation, run, task, and W3C trace context.

A run's trace id and each task's span id are derived from the run and task ids, so any server
instance (or a worker, or a log reader) computes the same ``traceparent`` without storing one,
and spans emitted long after a run started still join its trace.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "TraceParent",
    "correlation_id_var",
    "new_request_id",
    "request_id_var",
    "run_id_var",
    "run_span_id",
    "run_trace_id",
    "task_id_var",
    "task_span_id",
    "task_traceparent",
    "traceparent_var",
]

request_id_var: ContextVar[str | None] = ContextVar("podium_request_id", default=None)
"""The id of the HTTP request being served (``X-Request-Id``, or one made up for it)."""
correlation_id_var: ContextVar[str | None] = ContextVar("podium_correlation_id", default=None)
"""The caller's ``X-Correlation-Id``, or the correlation id of the run being worked on."""
run_id_var: ContextVar[str | None] = ContextVar("podium_run_id", default=None)
"""The workflow run a worker is working for."""
task_id_var: ContextVar[str | None] = ContextVar("podium_task_id", default=None)
"""The task a worker is running."""
traceparent_var: ContextVar[str | None] = ContextVar("podium_traceparent", default=None)
"""The caller's W3C ``traceparent``, when it sent one."""

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


# A request id need only be unique, not unguessable: a random prefix per process and a counter
# cost a fraction of a uuid4 (one system call for randomness) on every request.
_REQUEST_PREFIX = os.urandom(8).hex()
_REQUEST_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_REQUEST_PREFIX}{next(_REQUEST_COUNTER):016x}"


@lru_cache(maxsize=8192)  # a run's ids are derived again on every step of it
def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def run_trace_id(run_id: str) -> str:
    """The trace id (32 hex digits) of every span of a run."""
    return _digest(run_id, 16)


def run_span_id(run_id: str) -> str:
    """The span id (16 hex digits) of the span that covers a whole run."""
    return _digest(f"run/{run_id}", 8)


def task_span_id(task_id: str) -> str:
    """The span id of one task attempt's span: the parent of what a worker does with it."""
    return _digest(f"task/{task_id}", 8)


def task_traceparent(run_id: str, task_id: str) -> str:
    """The ``traceparent`` a worker or an HTTP task's service continues from."""
    return f"00-{run_trace_id(run_id)}-{task_span_id(task_id)}-01"


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A parsed W3C ``traceparent`` header."""

    trace_id: str
    span_id: str
    sampled: bool = True

    @classmethod
    def parse(cls, header: str | None) -> TraceParent | None:
        """The header's ids; None when it is missing or malformed (the spec says: ignore it)."""
        if not header:
            return None
        match = _TRACEPARENT.match(header.strip().lower())
        if match is None:
            return None
        version, trace_id, span_id, flags = match.groups()
        if version == "ff" or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
            return None
        return cls(trace_id, span_id, bool(int(flags, 16) & 1))

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"
