"""Single flight across processes: N processes that see the same new token at once make one
provider call in total.

The first process to take a short Redis lock on the token's fingerprint checks the token and
puts the result in the shared cache; the others wait for that entry. The lock never fails a
request: if Redis is down the process checks the token itself, and a waiter whose lock holder
went away (crashed, or could not decide: a 503 is never cached) or took longer than the lock
lives checks it itself too. Within one process the authenticator already shares one check
among concurrent requests, so at most one request per process waits here.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable

from redis.asyncio import Redis

from jiraguard.auth.cache import CacheEntry, PrincipalCache
from jiraguard.redis_client import FAILURES, RedisOutage

# Delete the lock only if it is still ours (it may have expired and been taken by another).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisFlight:
    def __init__(
        self,
        client: Redis,
        key_prefix: str,
        *,
        hold: float,
        poll: float = 0.01,
        outage: RedisOutage | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``hold``: how long a lock lives, a little over the longest check (provider
        timeout); ``poll``: how often a waiter looks for the result."""
        self.client = client
        self.prefix = key_prefix + "flight:"
        self.hold = hold
        self.poll = poll
        self.outage = outage or RedisOutage()
        self.clock = clock
        self._release = client.register_script(_RELEASE)
        self.waits = 0
        """Checks this process left to another process (for tests and metrics)."""

    async def acquire(self, key: str) -> str | None:
        """A lock id when this process should check the token (it holds the lock, or Redis
        cannot say); None when another process is checking it."""
        lock_id = secrets.token_hex(8)
        try:
            taken = await self.client.set(
                self.prefix + key, lock_id, nx=True, px=int(self.hold * 1000)
            )
        except FAILURES as exc:
            self.outage.report("single-flight lock", exc)
            return ""
        return lock_id if taken else None

    async def release(self, key: str, lock_id: str) -> None:
        if not lock_id:
            return
        try:
            await self._release(keys=[self.prefix + key], args=[lock_id])
        except FAILURES as exc:
            self.outage.report("single-flight unlock", exc)

    async def wait(
        self, key: str, cache: PrincipalCache, usable: Callable[[CacheEntry], bool]
    ) -> CacheEntry | None:
        """The entry the lock holder puts in ``cache``; None when it gives up (lock gone
        without a usable entry, or ``hold`` elapsed): then the caller checks the token."""
        self.waits += 1
        deadline = self.clock() + self.hold
        while self.clock() < deadline:
            await asyncio.sleep(self.poll)
            entry = await cache.get(key)
            if entry is not None and usable(entry):
                return entry
            try:
                if not await self.client.exists(self.prefix + key):
                    entry = await cache.get(key)  # put just before the lock went
                    return entry if entry is not None and usable(entry) else None
            except FAILURES as exc:
                self.outage.report("single-flight wait", exc)
                return None
        return None
