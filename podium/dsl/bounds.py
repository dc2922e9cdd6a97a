"""What every store can hold, checked on the way in so that both stores answer the same.

PostgreSQL refuses the NUL character in its text columns, keeps versions in 32-bit INTEGER
columns and times, offsets and counts in 64-bit BIGINT ones; SQLite takes some of these and
refuses others. Values past these bounds are refused where requests are read (400 naming the
field), never left to fail (or be kept by one store and not the other) when they are written.
Durations are held to about a century: every deadline Podium keeps is ``now`` plus one, in
milliseconds, and must fit in 64 bits.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

__all__ = [
    "INT4_MAX",
    "INT4_MIN",
    "INT8_MAX",
    "INT8_MIN",
    "MAX_DURATION_S",
    "Name",
    "nul_problem",
]

INT4_MAX = 2**31 - 1
"""The largest version (PostgreSQL ``INTEGER``)."""
INT4_MIN = -(2**31)
INT8_MAX = 2**63 - 1
"""The largest time, offset or count (PostgreSQL ``BIGINT``)."""
INT8_MIN = -(2**63)
MAX_DURATION_S = 100 * 365 * 86_400
"""The longest timeout, delay, TTL or WAIT duration: 3,153,600,000 s, about a century."""


def nul_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name, key or id a store indexes, or None."""
    if "\x00" in text:
        return "may not contain the NUL character (\\u0000)"
    return None


def _no_nul(text: str) -> str:
    problem = nul_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


Name = Annotated[str, AfterValidator(_no_nul)]
"""A string a store keeps in a text column: a name, type, reference, key, id or service."""
