"""Changes reach every process: a configuration saved, a user disabled.

Each "process" here is a full set of services (its own memory cache, change feed and, with
Redis, subscription) on one shared database, driven over ASGI; ``test_processes.py`` does the
same with real server processes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from jiraguard.app import create_app
from jiraguard.services import Services
from jiraguard.settings import validate_settings
from tests.auth.redis_support import REDIS_URL, down_url, redis_client, unique_prefix
from tests.conftest import BASE_URL, bearer, introspection_provider, jwt_provider
from tests.support.idp import TestProvider
from tests.support.redis_server import PrivateRedis

pytestmark = pytest.mark.anyio

ME = "/rest/api/2/myself"
INTROSPECTION = "/token/introspection"
DENY_ME = {"rules": [{"name": "no-myself", "paths": [ME], "action": "deny"}]}


def config_of(
    database_url: str,
    provider: dict[str, Any],
    *,
    redis: str | None = None,
    prefix: str = "jiraguard:",
    poll: float = 1.0,
    **sections: Any,
) -> dict[str, Any]:
    """One server's configuration: ``provider``, the database, Redis if given, how often the
    change feed is read."""
    config = {
        "storage": {"url": database_url},
        "providers": [provider],
        "server": {"base_url": BASE_URL, "changes_poll_interval": poll},
        **sections,
    }
    if redis is not None:
        config["redis"] = {"url": redis, "key_prefix": prefix}
    return config


@asynccontextmanager
async def node(config: dict[str, Any]) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """One server's services, started as the app's lifespan starts them."""
    settings = validate_settings(config)
    services = Services.build(settings)
    await services.start()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, services)), base_url=BASE_URL
    )
    try:
        yield services, client
    finally:
        await client.aclose()
        await services.aclose()


async def until(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> float:
    """Seconds until ``check()`` holds; fails the test after ``within`` seconds."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > within:
            pytest.fail(f"not within {within} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def status_is(client: httpx.AsyncClient, token: str, status: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await client.get(ME, headers=bearer(token))).status_code == status

    return check


async def test_a_saved_configuration_reaches_another_process_by_polling(
    idp: TestProvider, sqlite_url: str
) -> None:
    config = config_of(sqlite_url, jwt_provider(idp), poll=0.2)
    async with node(config) as (a, _), node(config) as (b, client_b):
        await b.users.add("alice")
        token = idp.jwt_token("alice")
        assert (await client_b.get(ME, headers=bearer(token))).status_code == 200
        await a.config.save(DENY_ME, actor="admin")
        elapsed = await until(status_is(client_b, token, 403))
        assert elapsed < 1.0
        assert b.reloads == 2  # the start-up configuration, then the saved one
        assert [r.name for r in b.settings.rules] == ["no-myself"]


@pytest.mark.redis
async def test_with_redis_a_change_arrives_by_pub_sub_not_by_polling(
    idp: TestProvider, sqlite_url: str
) -> None:
    prefix = unique_prefix()
    config = config_of(sqlite_url, jwt_provider(idp), redis=REDIS_URL, prefix=prefix, poll=60)
    async with redis_client(prefix), node(config) as (a, _), node(config) as (b, client_b):
        await until(lambda: _true(b.changes.subscribed))
        await b.users.add("alice")
        token = idp.jwt_token("alice")
        assert (await client_b.get(ME, headers=bearer(token))).status_code == 200
        await a.config.save(DENY_ME, actor="admin")
        elapsed = await until(status_is(client_b, token, 403))
        assert elapsed < 1.0
        assert b.changes.wakeups == 1


@pytest.mark.redis
async def test_a_disabled_user_is_refused_by_every_process_despite_the_shared_cache(
    idp: TestProvider, sqlite_url: str
) -> None:
    prefix = unique_prefix()
    config = config_of(
        sqlite_url, jwt_provider(idp), redis=REDIS_URL, prefix=prefix, auth={"cache_ttl": 300}
    )
    async with redis_client(prefix), node(config) as (a, client_a), node(config) as (b, client_b):
        await until(lambda: _true(a.changes.subscribed and b.changes.subscribed))
        await a.users.add("alice")
        token = idp.jwt_token("alice")
        assert (await client_a.get(ME, headers=bearer(token))).status_code == 200
        assert (await client_b.get(ME, headers=bearer(token))).status_code == 200
        # What `jiraguard user disable` does: the store records the change, then wakes all.
        assert await a.users.set_active("alice", False)
        await a.announce()
        for client in (client_a, client_b):
            assert await until(status_is(client, token, 401)) < 1.0
        assert await b.users.set_active("alice", True)
        await b.announce()
        assert await until(status_is(client_a, token, 200)) < 1.0


async def test_a_process_whose_redis_is_down_still_follows_the_feed(
    idp: TestProvider, sqlite_url: str
) -> None:
    base = config_of(sqlite_url, jwt_provider(idp))
    lost = config_of(sqlite_url, jwt_provider(idp), redis=down_url(), poll=0.3)
    async with node(base) as (a, _), node(lost) as (b, client_b):
        await b.users.add("alice")
        token = idp.jwt_token("alice")
        assert (await client_b.get(ME, headers=bearer(token))).status_code == 200
        await a.config.save(DENY_ME, actor="admin")
        # A few polls of 0.3 s (1.3 s seen once on a loaded machine).
        assert await until(status_is(client_b, token, 403)) < 2.0
        assert not b.changes.subscribed


async def _true(value: bool) -> bool:
    return value


@pytest.mark.redis
async def test_after_a_redis_restart_pub_sub_resumes_and_nothing_was_missed(
    idp: TestProvider, sqlite_url: str, tmp_path: Path
) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    config = config_of(sqlite_url, jwt_provider(idp), redis=redis.url, poll=0.3)
    try:
        async with node(config) as (a, _), node(config) as (b, client_b):
            await until(lambda: _true(b.changes.subscribed))
            await b.users.add("alice")
            token = idp.jwt_token("alice")
            redis.stop()
            await until(lambda: _true(not b.changes.subscribed))
            await a.config.save(DENY_ME, actor="admin")  # the wake-up is lost
            assert await until(status_is(client_b, token, 403)) < 1.0
            redis.start()
            await until(lambda: _true(b.changes.subscribed), within=10)
            woken = b.changes.wakeups
            await a.config.save({}, actor="admin")
            assert await until(status_is(client_b, token, 200)) < 1.0
            await until(lambda: _true(b.changes.wakeups > woken))
    finally:
        redis.stop()


@pytest.mark.redis
async def test_a_process_started_later_shares_the_cache_only_with_the_same_configuration(
    idp: TestProvider, sqlite_url: str
) -> None:
    prefix = unique_prefix()
    config = config_of(sqlite_url, introspection_provider(idp), redis=REDIS_URL, prefix=prefix)
    async with redis_client(prefix), node(config) as (a, client_a):
        await a.users.add("alice")
        token = idp.user_token("alice")
        idp.reset_stats()
        assert (await client_a.get(ME, headers=bearer(token))).status_code == 200
        async with node(config) as (_, client_b):
            assert (await client_b.get(ME, headers=bearer(token))).status_code == 200
        assert idp.stats().get(INTROSPECTION, 0) == 1  # the late process read a's entry
        other = {**config, "auth": {"create_users": True}}  # maps tokens differently
        async with node(other) as (_, client_c):
            assert (await client_c.get(ME, headers=bearer(token))).status_code == 200
        assert idp.stats().get(INTROSPECTION, 0) == 2  # never trusts another mapping's entry
        # A rules-only change leaves what tokens map to, and so the cache, alone.
        await a.config.save(
            {"rules": [{"name": "r", "paths": ["/nowhere"], "action": "deny"}]}, actor="x"
        )
        assert (await client_a.get(ME, headers=bearer(token))).status_code == 200
        assert idp.stats().get(INTROSPECTION, 0) == 2
        await a.config.save({"auth": {"negative_cache_ttl": 1}}, actor="x")
        assert (await client_a.get(ME, headers=bearer(token))).status_code == 200
        assert idp.stats().get(INTROSPECTION, 0) == 3
