"""One conformance suite for :class:`PrincipalCache`: memory, Redis and memory-over-Redis.

Every implementation must round-trip both kinds of entry field for field, never return an
entry past its ttl, store nothing for a ttl <= 0, and forget everything on ``clear``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from jiraguard.auth.cache import MemoryPrincipalCache, PrincipalCache, Rejection
from jiraguard.auth.cache_redis import (
    RedisPrincipalCache,
    TieredPrincipalCache,
    decode,
    encode,
)
from jiraguard.auth.principal import Principal
from jiraguard.redis_client import make_redis
from tests.auth.redis_support import down_url, redis_client, unique_prefix

pytestmark = pytest.mark.anyio

ALICE = Principal(
    username="alice",
    key="JIRAUSER10000",
    display_name="Alice Ä",
    email="alice@example.com",
    groups=frozenset({"jira-users", "developers"}),
    scopes=frozenset({"openid", "jira:read"}),
    method="introspection",
    provider="corp",
    client_id="cli",
    expires_at=1_900_000_000.5,
    fingerprint="0123456789abcdef",
    token_id=None,
    admin=True,
)


def _all_fields(principal: object) -> tuple[object, ...]:
    """Every field, including those left out of ``==`` (expires_at, fingerprint)."""
    return tuple(getattr(principal, name) for name in Principal.__slots__)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("tiered", marks=pytest.mark.redis),
    ]
)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[PrincipalCache]:
    if request.param == "memory":
        yield MemoryPrincipalCache(100)
        return
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        shared = RedisPrincipalCache(client, prefix)
        if request.param == "redis":
            yield shared
        else:
            yield TieredPrincipalCache(MemoryPrincipalCache(100), shared)


async def test_principal_round_trips_every_field(cache: PrincipalCache) -> None:
    await cache.put("k", ALICE, 30)
    found = await cache.get("k")
    assert isinstance(found, Principal)
    assert _all_fields(found) == _all_fields(ALICE)


async def test_rejection_round_trips(cache: PrincipalCache) -> None:
    await cache.put("k", Rejection("The token expired"), 30)
    assert await cache.get("k") == Rejection("The token expired")


async def test_missing_key_is_none(cache: PrincipalCache) -> None:
    assert await cache.get("absent") is None


async def test_entry_expires_after_its_ttl(cache: PrincipalCache) -> None:
    await cache.put("short", ALICE, 0.2)
    await cache.put("long", Rejection("no"), 30)
    assert await cache.get("short") == ALICE
    await asyncio.sleep(0.25)
    assert await cache.get("short") is None
    assert await cache.get("long") == Rejection("no")


@pytest.mark.parametrize("ttl", [0, -1])
async def test_ttl_not_positive_stores_nothing(cache: PrincipalCache, ttl: float) -> None:
    await cache.put("k", ALICE, ttl)
    assert await cache.get("k") is None


async def test_ttl_not_positive_removes_the_old_entry(cache: PrincipalCache) -> None:
    await cache.put("k", Rejection("bad"), 30)
    await cache.put("k", Rejection("bad"), 0)
    assert await cache.get("k") is None


async def test_clear_forgets_everything(cache: PrincipalCache) -> None:
    await cache.put("a", ALICE, 30)
    await cache.put("b", Rejection("no"), 30)
    await cache.clear()
    assert await cache.get("a") is None
    assert await cache.get("b") is None


# Redis specifics ----------------------------------------------------------------------------


def test_entries_are_json_not_pickle() -> None:
    raw = encode(ALICE, 123.5)
    assert raw.startswith(b'{"kind":"principal"')
    entry, expires = decode(raw)
    assert _all_fields(entry) == _all_fields(ALICE)
    assert expires == 123.5
    with pytest.raises(ValueError, match="kind"):
        decode(b'{"kind":"pickle","expires":1,"fields":{}}')


@pytest.mark.redis
async def test_two_processes_share_entries() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as one, redis_client(prefix) as two:
        first = TieredPrincipalCache(MemoryPrincipalCache(10), RedisPrincipalCache(one, prefix))
        second = TieredPrincipalCache(MemoryPrincipalCache(10), RedisPrincipalCache(two, prefix))
        await first.put("k", ALICE, 30)
        assert await second.get("k") == ALICE
        assert (second.local.misses, second.local.hits) == (1, 0)
        assert await second.get("k") == ALICE  # now from its own memory
        assert second.local.hits == 1


@pytest.mark.redis
async def test_local_copy_lives_no_longer_than_the_shared_entry() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        writer = RedisPrincipalCache(client, prefix)
        reader = TieredPrincipalCache(MemoryPrincipalCache(10), RedisPrincipalCache(client, prefix))
        await writer.put("k", Rejection("no"), 0.4)
        await asyncio.sleep(0.2)
        assert await reader.get("k") == Rejection("no")
        await asyncio.sleep(0.25)
        assert await reader.local.get("k") is None


@pytest.mark.redis
async def test_keys_carry_the_prefix_and_a_millisecond_ttl() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        await RedisPrincipalCache(client, prefix).put("abc", ALICE, 1.5)
        ttl = await client.pttl(prefix + "principal:abc")
        assert 1000 < ttl <= 1500


async def test_redis_down_is_a_miss_and_counted() -> None:
    client = make_redis(down_url(), socket_timeout=0.5)
    try:
        shared = RedisPrincipalCache(client)
        cache = TieredPrincipalCache(MemoryPrincipalCache(10), shared)
        await cache.put("k", ALICE, 30)
        assert await cache.get("k") == ALICE  # the local level still works
        assert await shared.get("k") is None
        await cache.clear()
        assert shared.outage.errors == 3
    finally:
        await client.aclose()
