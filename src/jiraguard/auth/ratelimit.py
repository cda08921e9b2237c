"""Rate limits: token buckets per user, per client and per token.

A bucket of ``count`` requests refills continuously at ``count / period`` per second, so a
limit of ``100/minute`` allows a burst of 100 and then one request every 0.6 s. The interface
is async so a shared (Redis) implementation fits behind it; :class:`MemoryRateLimiter` keeps
buckets in this process, bounded (least recently used dropped first).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple, Protocol


class Verdict(NamedTuple):
    """A bucket's answer to one request (a named tuple: made on every limited request, and a
    frozen dataclass takes several times as long to build)."""

    allowed: bool
    limit: int
    remaining: int
    reset: float
    """Seconds until the bucket is full again."""
    retry_after: float
    """Seconds until one request is allowed again (0 when allowed)."""


class RateLimiter(Protocol):
    async def hit(self, key: str, count: int, period: float) -> Verdict:
        """Take one request from ``key``'s bucket of ``count`` per ``period`` seconds."""
        ...


class MemoryRateLimiter:
    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def hit(self, key: str, count: int, period: float) -> Verdict:
        now = self.clock()
        rate = count / period
        tokens, last = self._buckets.get(key, (float(count), now))
        tokens = min(float(count), tokens + (now - last) * rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return Verdict(
            allowed=allowed,
            limit=count,
            remaining=int(tokens),
            reset=(count - tokens) / rate,
            retry_after=0.0 if allowed else (1.0 - tokens) / rate,
        )


def headers(verdict: Verdict) -> dict[str, str]:
    """``RateLimit-*`` fields (draft-ietf-httpapi-ratelimit-headers) and ``Retry-After``."""
    fields = {
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(math.ceil(verdict.reset)),
    }
    if not verdict.allowed:
        fields["Retry-After"] = str(max(1, math.ceil(verdict.retry_after)))
    return fields
