"""Rate limits shared by every process: the token bucket of :mod:`.ratelimit` in Redis.

One Lua script reads, refills, takes and writes a bucket atomically, so two processes can
never both take the last request. The script uses Redis's own ``TIME``, not the caller's
clock: every process then measures refill against one clock, and clock skew between hosts
cannot refill a bucket early. A bucket's key expires once it would be full again anyway.

When Redis fails, the request is counted by a local :class:`MemoryRateLimiter` instead:
limits keep holding per process (fail open across processes, never fail the request).
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from jiraguard.auth.ratelimit import MemoryRateLimiter, Verdict
from jiraguard.redis_client import FAILURES, RedisOutage

# KEYS[1] bucket; ARGV count, period (s). Returns {allowed (0/1), tokens left (string:
# Lua numbers become Redis integers, which would truncate the fraction)}.
BUCKET_SCRIPT = """
local count = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local rate = count / period
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = count
  last = now
end
tokens = math.min(count, tokens + math.max(0, now - last) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts',
  string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(period * 1000) + 1000)
return {allowed, string.format('%.17g', tokens)}
"""


class RedisRateLimiter:
    """:class:`~jiraguard.auth.ratelimit.RateLimiter` over Redis, falling back to memory."""

    def __init__(
        self,
        client: Redis,
        key_prefix: str = "jiraguard:",
        *,
        fallback: MemoryRateLimiter | None = None,
        outage: RedisOutage | None = None,
    ) -> None:
        self.client = client
        self.prefix = key_prefix + "ratelimit:"
        self.fallback = fallback or MemoryRateLimiter()
        self.outage = outage or RedisOutage()
        # EVALSHA names a script by its SHA-1 (the script cache's key, not a security use).
        self._sha = hashlib.sha1(BUCKET_SCRIPT.encode(), usedforsecurity=False).hexdigest()

    async def hit(self, key: str, count: int, period: float) -> Verdict:
        try:
            allowed, tokens = await self._run(self.prefix + key, count, period)
        except FAILURES as exc:
            self.outage.report("rate limit", exc)
            return await self.fallback.hit(key, count, period)
        rate = count / period
        return Verdict(
            allowed=allowed,
            limit=count,
            remaining=int(tokens),
            reset=(count - tokens) / rate,
            retry_after=0.0 if allowed else (1.0 - tokens) / rate,
        )

    async def _run(self, key: str, count: int, period: float) -> tuple[bool, float]:
        args = (key, count, repr(float(period)))
        try:
            result = await self.client.evalsha(self._sha, 1, *args)
        except NoScriptError:
            # Not in the script cache yet (first call, restart, SCRIPT FLUSH, failover): EVAL
            # runs it and caches it, so the next EVALSHA finds it.
            result = await self.client.eval(BUCKET_SCRIPT, 1, *args)
        allowed, tokens = result
        return bool(int(allowed)), float(tokens)
