"""Whoever can write to Redis must not be able to plant an accepted principal: shared cache
entries carry a MAC over their key and value, and one that does not verify is a miss plus a
security log line."""

from __future__ import annotations

import logging

import pytest

from jiraguard.auth.cache import Rejection
from jiraguard.auth.cache_redis import (
    RedisPrincipalCache,
    TieredPrincipalCache,
    cache_mac_key,
    encode,
)
from jiraguard.auth.principal import Principal, fingerprint
from jiraguard.settings import validate_settings
from tests.auth.redis_support import REDIS_URL, redis_client, unique_prefix
from tests.conftest import HarnessFactory, bearer
from tests.support.tokens import claims_for, hmac_provider, signed

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

ROOT = Principal(
    username="root",
    key="JIRAUSER10000",
    display_name="Root",
    email="root@example.com",
    admin=True,
    expires_at=4_000_000_000.0,
)


async def test_a_planted_principal_is_not_accepted(
    harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        h = await harness(
            [hmac_provider()],
            redis={"url": REDIS_URL, "key_prefix": prefix, "cache_key": "k" * 32},
        )
        await h.add_user("alice")
        good = signed(claims_for("alice"))
        assert (await h.client.get("/rest/api/2/myself", headers=bearer(good))).status_code == 200
        [written] = [k async for k in client.scan_iter(match=prefix + "principal:*")]
        namespace = written.decode().removesuffix(fingerprint(good))
        # An attacker with write access to Redis plants root for a token of their own choosing,
        # as unsigned JSON, and copies alice's genuine entry under another token's key.
        forged_token = "forged-token-of-the-attacker"
        await client.set(namespace + fingerprint(forged_token), encode(ROOT, 4_000_000_000.0))
        moved_token = "another-token-of-the-attacker"
        await client.set(namespace + fingerprint(moved_token), await client.get(written))
        with caplog.at_level(logging.WARNING, logger="jiraguard.security"):
            for token in (forged_token, moved_token):
                response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
                assert response.status_code == 401
        assert any("failed its MAC check" in r.message for r in caplog.records)
        cache = h.services.cache
        assert isinstance(cache, TieredPrincipalCache)
        assert isinstance(cache.shared, RedisPrincipalCache)
        assert (
            cache.shared.forged >= 2
        )  # each read of the entry counts (the single flight reads twice)
        metrics = (await h.client.get("/metrics")).text
        line = next(
            x for x in metrics.splitlines() if x.startswith("jiraguard_principal_cache_forged")
        )
        assert float(line.split()[-1]) == cache.shared.forged


async def test_entries_written_with_another_key_are_misses() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        one = RedisPrincipalCache(client, prefix, mac_key=b"1" * 32)
        same = RedisPrincipalCache(client, prefix, mac_key=b"1" * 32)
        other = RedisPrincipalCache(client, prefix, mac_key=b"2" * 32)
        await one.put("k", Rejection("no"), 30)
        assert await same.get("k") == Rejection("no")
        assert await other.get("k") is None
        assert other.forged == 1


def test_the_key_comes_from_cache_key_else_the_storage_url() -> None:
    def key(**redis: object) -> bytes:
        settings = validate_settings(
            {"storage": {"url": "sqlite:///x.db"}, "redis": {"url": REDIS_URL, **redis}}
        )
        return cache_mac_key(settings)

    assert key(cache_key="a" * 32) != key(cache_key="b" * 32) != key()
    assert key() == key()
