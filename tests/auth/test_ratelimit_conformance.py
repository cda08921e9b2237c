"""One conformance suite for :class:`RateLimiter`: in memory and in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from jiraguard.auth.ratelimit import MemoryRateLimiter, RateLimiter, Verdict
from jiraguard.auth.ratelimit_redis import RedisRateLimiter
from jiraguard.redis_client import make_redis
from tests.auth.redis_support import down_url, redis_client, unique_prefix

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        redis_limiter = RedisRateLimiter(client, prefix)
        yield redis_limiter
        assert redis_limiter.outage.errors == 0


def _sane(verdict: Verdict, count: int, period: float) -> None:
    assert verdict.limit == count
    assert 0 <= verdict.remaining <= count
    assert 0 <= verdict.reset <= period + 1e-6
    if verdict.allowed:
        assert verdict.retry_after == 0
    else:
        assert 0 < verdict.retry_after <= period / count + 1e-6


async def test_burst_then_refused(limiter: RateLimiter) -> None:
    verdicts = [await limiter.hit("user:a", 3, 60) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    for verdict in verdicts:
        _sane(verdict, 3, 60)
    assert verdicts[-1].retry_after > 19  # one request per 20 s


async def test_refills_over_time(limiter: RateLimiter) -> None:
    for _ in range(2):
        assert (await limiter.hit("user:b", 2, 0.2)).allowed
    assert not (await limiter.hit("user:b", 2, 0.2)).allowed
    await asyncio.sleep(0.15)  # 1.5 requests' worth
    refilled = await limiter.hit("user:b", 2, 0.2)
    assert refilled.allowed
    _sane(refilled, 2, 0.2)


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    assert (await limiter.hit("user:c", 1, 60)).allowed
    assert not (await limiter.hit("user:c", 1, 60)).allowed
    assert (await limiter.hit("user:d", 1, 60)).allowed


@pytest.mark.redis
async def test_a_limit_holds_across_processes() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as one, redis_client(prefix) as two:
        limiters = [RedisRateLimiter(one, prefix), RedisRateLimiter(two, prefix)]
        verdicts = [await limiters[i % 2].hit("user:e", 5, 60) for i in range(10)]
        assert sum(v.allowed for v in verdicts) == 5
        assert [v.allowed for v in verdicts[:5]] == [True] * 5


@pytest.mark.redis
async def test_concurrent_hits_never_overspend() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        limiter = RedisRateLimiter(client, prefix)
        verdicts = await asyncio.gather(*(limiter.hit("user:f", 7, 60) for _ in range(30)))
        assert sum(v.allowed for v in verdicts) == 7


@pytest.mark.redis
async def test_script_flushed_is_loaded_again() -> None:
    """NOSCRIPT (a restarted Redis forgot the script) falls back to EVAL, not to memory.

    SCRIPT FLUSH empties this Redis's script cache for everyone, harmless for the others: they
    recover the same way.
    """
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        limiter = RedisRateLimiter(client, prefix)
        assert (await limiter.hit("user:g", 2, 60)).allowed
        await client.script_flush()
        assert (await limiter.hit("user:g", 2, 60)).allowed
        assert not (await limiter.hit("user:g", 2, 60)).allowed
        assert limiter.outage.errors == 0


async def test_redis_down_still_limits_locally() -> None:
    client = make_redis(down_url(), socket_timeout=0.5)
    try:
        limiter = RedisRateLimiter(client)
        verdicts = [await limiter.hit("user:h", 2, 60) for _ in range(3)]
        assert [v.allowed for v in verdicts] == [True, True, False]
        assert limiter.outage.errors == 3
    finally:
        await client.aclose()
