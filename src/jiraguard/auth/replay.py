"""Proofs seen before: a DPoP proof's ``jti`` is accepted once (RFC 9449 §11.1).

:class:`MemoryReplayCache` remembers ids in this process, bounded; :class:`RedisReplayCache`
shares them between every process through Redis (``SET NX`` with the proof's lifetime), so a
proof replayed to another process is refused too. When Redis fails, the process falls back
to its own memory (a replay to the same process is still refused) and reports the outage,
as every shared part does (:mod:`jiraguard.redis_client`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

from jiraguard.redis_client import FAILURES, RedisOutage


class ReplayCache(Protocol):
    async def first_use(self, key: str, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds; False when it was already remembered."""
        ...


class MemoryReplayCache:
    """Ids seen in this process, each until its ttl passes; the oldest go first when full."""

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self.evicted = 0
        """Ids dropped before their time because the cache was full."""

    async def first_use(self, key: str, ttl: float) -> bool:
        now = self.clock()
        until = self._seen.get(key)
        if until is not None and until > now:
            return False
        seen = self._seen
        while seen:  # entries go in in time order: expired ones are at the front
            oldest = next(iter(seen.values()))
            if oldest > now and len(seen) < self.size:
                break
            if oldest > now:
                self.evicted += 1
            seen.popitem(last=False)
        seen[key] = now + ttl
        seen.move_to_end(key)
        return True


class RedisReplayCache:
    """Ids seen by any process, in Redis; this process's memory while Redis is down."""

    def __init__(
        self, redis: Redis, prefix: str, fallback: MemoryReplayCache, outage: RedisOutage
    ) -> None:
        self.redis = redis
        self.prefix = prefix + "dpop-jti:"
        self.fallback = fallback
        self.outage = outage

    async def first_use(self, key: str, ttl: float) -> bool:
        try:
            stored = await self.redis.set(
                self.prefix + key, b"1", nx=True, px=max(1, int(ttl * 1000))
            )
        except FAILURES as exc:
            self.outage.report("DPoP replay cache", exc)
            return await self.fallback.first_use(key, ttl)
        return bool(stored)
