"""The in-process principal cache: deadlines, LRU bound, negative entries."""

from __future__ import annotations

import gc

import pytest

from jiraguard.auth.cache import MemoryPrincipalCache, Rejection
from jiraguard.auth.principal import Principal

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _principal(name: str) -> Principal:
    return Principal(username=name, key=name, display_name=name, email="")


async def test_entry_lives_exactly_its_ttl() -> None:
    clock = Clock()
    cache = MemoryPrincipalCache(10, clock=clock)
    await cache.put("k", _principal("a"), ttl=5)
    clock.now += 4.99
    assert await cache.get("k") == _principal("a")
    clock.now += 0.01
    assert await cache.get("k") is None


async def test_least_recently_used_goes_first() -> None:
    cache = MemoryPrincipalCache(2, clock=Clock())
    await cache.put("a", _principal("a"), 60)
    await cache.put("b", _principal("b"), 60)
    await cache.get("a")
    await cache.put("c", _principal("c"), 60)
    assert await cache.get("b") is None
    assert await cache.get("a") is not None
    assert len(cache) == 2


async def test_zero_ttl_stores_nothing_and_removes() -> None:
    cache = MemoryPrincipalCache(2, clock=Clock())
    await cache.put("a", Rejection("bad"), 5)
    await cache.put("a", Rejection("bad"), 0)
    assert await cache.get("a") is None


async def test_hit_and_miss_counts() -> None:
    cache = MemoryPrincipalCache(2, clock=Clock())
    await cache.get("x")
    await cache.put("x", Rejection("no"), 1)
    assert await cache.get("x") == Rejection("no")
    assert (cache.hits, cache.misses) == (1, 1)


async def test_a_flood_of_rejections_never_pushes_out_a_principal() -> None:
    cache = MemoryPrincipalCache(3, clock=Clock())
    for name in ("a", "b", "c"):
        await cache.put(name, _principal(name), 60)
    for i in range(100):  # distinct bad tokens, each refused once
        await cache.put(f"bad-{i}", Rejection("bad"), 5)
    assert [await cache.get(name) for name in ("a", "b", "c")] == [
        _principal("a"),
        _principal("b"),
        _principal("c"),
    ]
    assert await cache.get("bad-99") == Rejection("bad")
    assert await cache.get("bad-96") is None  # the rejections' own bound
    assert len(cache) == 6


async def test_a_token_has_one_answer_the_newest() -> None:
    cache = MemoryPrincipalCache(3, clock=Clock())
    await cache.put("k", _principal("a"), 60)
    await cache.put("k", Rejection("disabled", username="a"), 5)  # its user was disabled
    assert await cache.get("k") == Rejection("disabled", username="a")
    await cache.put("k", _principal("a"), 60)  # enabled again, checked again
    assert await cache.get("k") == _principal("a")
    assert len(cache) == 1
    await cache.clear()
    assert len(cache) == 0


async def test_kept_rejections_are_nothing_the_garbage_collector_walks() -> None:
    """A flood of forged tokens fills the rejections' list; what it holds must not be
    objects every full collection walks (100,000 of them paused the server a tenth of a
    second, every few seconds), and each comes back whole."""
    cache = MemoryPrincipalCache(10_000, clock=Clock())
    gc.collect()
    tracked = len(gc.get_objects())
    for i in range(10_000):
        await cache.put(f"bad-{i}", Rejection("bad", checked_at=float(i), username=f"u{i}"), 5)
    gc.collect()
    assert len(gc.get_objects()) - tracked < 100  # the 10,000 entries add none
    found = await cache.get("bad-9999")
    assert found == Rejection("bad", username="u9999")
    assert isinstance(found, Rejection)
    assert found.checked_at == 9999.0
