"""Delays between attempts of something that failed or is not ready yet: exponential, capped,
and jittered, the one back-off every retry and reconnect loop in Podium uses.

The delay before attempt ``n`` (counted from 0) grows as ``first * 2**n`` up to ``cap``, and
jitter spreads it so that many clients that failed together do not come back together
(https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):

* ``"full"``: anywhere from 0 to the exponential delay; the least total load, but a delay may
  be close to nothing.
* ``"equal"``: at least half the exponential delay, plus up to as much again at random; for
  loops that must not spin (a reconnect to a broker that refuses at once).
* ``"none"``: exactly the exponential delay, for waits with no one to collide with.

Pass a ``random.Random`` for delays a test can predict. Conductor's ``retryLogic`` for task
retries is not this: ``engine/timing.py`` keeps its exact semantics.
"""

from __future__ import annotations

import random
from typing import Literal

__all__ = ["Backoff", "Jitter", "backoff_delay"]

Jitter = Literal["full", "equal", "none"]

# Past this many doublings every sensible cap has been reached; it keeps 2**n small.
_MAX_DOUBLINGS = 64


def backoff_delay(
    attempt: int,
    first: float,
    cap: float,
    *,
    jitter: Jitter = "equal",
    rng: random.Random | None = None,
) -> float:
    """The delay before ``attempt`` (0 for the first retry): ``first`` doubled ``attempt``
    times, at most ``cap``, then jittered. Raises ``ValueError`` for a negative ``attempt``
    or a ``cap`` below ``first``."""
    if attempt < 0 or first < 0 or cap < first:
        raise ValueError(
            f"backoff needs attempt >= 0 and 0 <= first <= cap, not {attempt}, {first}, {cap}"
        )
    ceiling = min(cap, first * 2.0 ** min(attempt, _MAX_DOUBLINGS))
    if jitter == "none":
        return ceiling
    draw = rng.random() if rng is not None else random.random()
    if jitter == "full":
        return ceiling * draw
    return ceiling / 2 + ceiling / 2 * draw


class Backoff:
    """Successive delays from :func:`backoff_delay`; ``reset`` after a success starts over."""

    __slots__ = ("attempt", "cap", "first", "jitter", "rng")

    def __init__(
        self,
        first: float,
        cap: float,
        *,
        jitter: Jitter = "equal",
        rng: random.Random | None = None,
    ) -> None:
        backoff_delay(0, first, cap, jitter="none")  # refuse bad bounds here, not later
        self.first, self.cap, self.jitter, self.rng = first, cap, jitter, rng
        self.attempt = 0
        """How many delays have been handed out since the last ``reset``."""

    def next(self) -> float:
        """The next delay, in the unit ``first`` and ``cap`` are given in."""
        delay = backoff_delay(self.attempt, self.first, self.cap, jitter=self.jitter, rng=self.rng)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Start over from ``first``: the thing retried has worked."""
        self.attempt = 0
