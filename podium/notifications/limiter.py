"""Each channel's rate: a token bucket per channel, refilled at the channel's rate a minute.

A message over the rate is not dropped: the pump is told how long to wait and leaves the row
pending until then.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChannelLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at_ms: int


class ChannelLimiter:
    """Token buckets by channel id; ``burst`` messages may go at once after a quiet spell."""

    def __init__(self, burst: int = 5) -> None:
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def wait_ms(self, channel: str, per_minute: float, now: int) -> int:
        """0 and a token taken if a message may go now, else how long until one may."""
        capacity = max(1.0, min(float(self.burst), per_minute))
        bucket = self._buckets.setdefault(channel, _Bucket(capacity, now))
        per_ms = per_minute / 60_000
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at_ms) * per_ms)
        bucket.at_ms = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, int((1 - bucket.tokens) / per_ms))
