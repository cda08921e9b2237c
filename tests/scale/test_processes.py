"""Three real ``jiraguard serve`` processes on loopback sharing one PostgreSQL and one Redis.

The provider is the real test OpenID provider, checking opaque tokens by introspection, so
its request counts say how many times a token was checked across all processes.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth.redis_support import REDIS_URL, unique_prefix
from tests.conftest import bearer, introspection_provider, postgres_database
from tests.support.idp import TestProvider
from tests.support.live import add_users
from tests.support.processes import JIRAGUARD, Server, write_config
from tests.support.redis_server import PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.idp]

ME = "/rest/api/2/myself"
INTROSPECTION = "/token/introspection"


@dataclass
class Cluster:
    servers: list[Server]
    admin_token: str
    database_url: str

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]


@contextmanager
def running_cluster(tmp: Path, config: dict[str, Any], count: int) -> Iterator[Cluster]:
    """``count`` servers for ``config`` on a new PostgreSQL database, users alice, bob and
    carol in it; stopped and the database dropped afterwards."""
    token_file = tmp / "admin-token"
    with postgres_database(migrate=False) as database_url:
        config = {
            **config,
            "storage": {"url": database_url},
            "tokens": {"bootstrap_token_file": str(token_file)},
        }
        path = write_config(tmp / "jiraguard.toml", config)
        servers = [Server(path, log=tmp / f"server-{i}.log") for i in range(count)]
        try:
            # All at once on an empty database: one migrates and bootstraps, the others wait.
            for server in servers:
                server.start(wait=False)
            for server in servers:
                server.wait()
            users = {name: {"email": f"{name}@example.com"} for name in ("alice", "bob", "carol")}
            asyncio.run(add_users(database_url, users))
            yield Cluster(servers, token_file.read_text().strip(), database_url)
        finally:
            for server in servers:
                server.stop()


@pytest.fixture(scope="module")
def cluster(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    prefix = unique_prefix()
    config = {
        # Polling the feed every 30 s: anything faster below comes by pub/sub.
        "server": {"changes_poll_interval": 30},
        "redis": {"url": REDIS_URL, "key_prefix": prefix},
        "providers": [introspection_provider(idp)],
        "auth": {"cache_ttl": 300},
        "rules": [{"name": "limited", "paths": ["/rest/api/2/serverInfo"], "rate_limit": "5/hour"}],
    }
    with running_cluster(tmp_path_factory.mktemp("cluster"), config, 3) as made:
        yield made


def test_three_processes_started_together_bootstrapped_one_administrator(
    cluster: Cluster,
) -> None:
    response = httpx.get(cluster.urls[2] + ME, headers=bearer(cluster.admin_token))
    assert response.status_code == 200
    assert response.json()["name"] == "admin"


def test_a_token_checked_by_one_process_is_a_cache_hit_on_the_others(
    cluster: Cluster, idp: TestProvider
) -> None:
    token = idp.user_token("alice")
    idp.reset_stats()
    for url in cluster.urls:
        response = httpx.get(url + ME, headers=bearer(token))
        assert response.status_code == 200
        assert response.json()["name"] == "alice"
    assert idp.stats().get(INTROSPECTION, 0) == 1


def test_fifty_concurrent_requests_with_a_new_token_make_one_provider_call(
    cluster: Cluster, idp: TestProvider
) -> None:
    token = idp.user_token("bob")
    idp.reset_stats()

    async def burst() -> list[int]:
        async with httpx.AsyncClient(timeout=10) as client:
            urls = itertools.islice(itertools.cycle(cluster.urls), 50)
            responses = await asyncio.gather(
                *(client.get(url + ME, headers=bearer(token)) for url in urls)
            )
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 50
    assert idp.stats().get(INTROSPECTION, 0) == 1


def test_a_personal_access_token_revoked_through_one_is_refused_by_another_at_once(
    cluster: Cluster, idp: TestProvider
) -> None:
    first, second = cluster.urls[0], cluster.urls[1]
    created = httpx.post(
        first + "/rest/pat/latest/tokens",
        json={"name": "script"},
        headers=bearer(idp.user_token("carol")),
    )
    assert created.status_code == 201
    pat = created.json()["rawToken"]
    assert httpx.get(second + ME, headers=bearer(pat)).status_code == 200
    revoked = httpx.delete(
        f"{first}/rest/pat/latest/tokens/{created.json()['id']}",
        headers=bearer(cluster.admin_token),
    )
    assert revoked.status_code == 204
    start = time.monotonic()
    assert httpx.get(second + ME, headers=bearer(pat)).status_code == 401
    assert time.monotonic() - start < 1.0


def test_a_rate_limit_holds_across_processes(cluster: Cluster, idp: TestProvider) -> None:
    token = idp.user_token("alice")
    statuses = [
        httpx.get(url + "/rest/api/2/serverInfo", headers=bearer(token)).status_code
        for url in itertools.islice(itertools.cycle(cluster.urls), 9)
    ]
    assert sorted(statuses) == [200] * 5 + [429] * 4


def test_a_disabled_user_is_refused_by_every_process_within_a_second(
    cluster: Cluster, idp: TestProvider
) -> None:
    token = idp.user_token("bob")
    for url in cluster.urls:
        assert httpx.get(url + ME, headers=bearer(token)).status_code == 200
    config = cluster.servers[0].config
    subprocess.run([JIRAGUARD, "user", "disable", "bob", "--config", str(config)], check=True)
    disabled_at = time.monotonic()
    try:
        for url in cluster.urls:
            while httpx.get(url + ME, headers=bearer(token)).status_code != 401:
                assert time.monotonic() - disabled_at < 1.0
                time.sleep(0.02)
    finally:
        subprocess.run([JIRAGUARD, "user", "enable", "bob", "--config", str(config)], check=True)


def test_requests_keep_succeeding_while_redis_is_down_and_share_again_after(
    idp: TestProvider, tmp_path: Path
) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    config = {"redis": {"url": redis.url}, "providers": [introspection_provider(idp)]}
    try:
        with running_cluster(tmp_path, config, 2) as made:

            def checks(token: str) -> int:
                idp.reset_stats()
                for url in made.urls:
                    assert httpx.get(url + ME, headers=bearer(token)).status_code == 200
                return idp.stats().get(INTROSPECTION, 0)

            assert checks(idp.user_token("alice")) == 1  # shared
            redis.stop()
            assert checks(idp.user_token("alice")) == 2  # each process on its own, still serving
            ready = httpx.get(made.urls[0] + "/readyz")
            assert ready.status_code == 200  # Redis is every process's: they stay in service
            assert ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["redis"].startswith("Redis unavailable")
            redis.start()
            assert checks(idp.user_token("alice")) == 1  # shared again, no restart
            assert httpx.get(made.urls[0] + "/readyz").status_code == 200
    finally:
        redis.stop()


def test_a_process_killed_mid_load_loses_no_retryable_request_and_no_data(
    cluster: Cluster, idp: TestProvider
) -> None:
    """A load balancer's view: a request that could not reach a process (connection
    refused or reset before an answer) is retried on another; GETs are retried on any
    transport error, POSTs only when they never got through. Every 201 must stay."""
    admin = bearer(cluster.admin_token)
    project = httpx.post(
        cluster.urls[0] + "/rest/api/2/project",
        json={"key": "LOAD", "name": "Load", "lead": "admin"},
        headers=admin,
    )
    assert project.status_code == 201, project.text
    victim = cluster.servers[2]
    created: list[str] = []
    ambiguous = 0

    async def worker(client: httpx.AsyncClient, n: int, stop_at: float) -> None:
        nonlocal ambiguous
        urls = itertools.cycle(cluster.urls[n % 3 :] + cluster.urls[: n % 3])
        while time.monotonic() < stop_at:
            url = next(urls)
            body = {
                "fields": {
                    "project": {"key": "LOAD"},
                    "issuetype": {"name": "Task"},
                    "summary": f"load {n}",
                }
            }
            try:
                response = await client.post(url + "/rest/api/2/issue", json=body, headers=admin)
            except httpx.ConnectError:
                continue  # never reached a process: the balancer retries elsewhere
            except httpx.TransportError:
                ambiguous += 1  # in flight when the process died: the client cannot know
                continue
            assert response.status_code == 201, response.text
            key = response.json()["key"]
            created.append(key)
            for attempt in itertools.islice(urls, 3):
                try:
                    got = await client.get(f"{attempt}/rest/api/2/issue/{key}", headers=admin)
                except httpx.TransportError:
                    continue
                assert got.status_code == 200
                break
            else:
                pytest.fail(f"{key} could not be read from any process")

    async def load() -> None:
        stop_at = time.monotonic() + 4.0
        async with httpx.AsyncClient(timeout=10) as client:
            tasks = [asyncio.create_task(worker(client, n, stop_at)) for n in range(8)]
            await asyncio.sleep(1.5)
            victim.kill()
            await asyncio.gather(*tasks)

    try:
        asyncio.run(load())
    finally:
        victim.start()  # the module's other tests still expect three processes
    assert len(created) > 20
    assert ambiguous <= 8  # at most the requests in flight at the kill
    search = httpx.get(
        cluster.urls[0] + "/rest/api/2/search",
        params={"jql": "project = LOAD", "maxResults": 0},
        headers=admin,
    )
    total = search.json()["total"]
    # Every issue a client saw created exists; an ambiguous request may have created one more.
    assert len(created) <= total <= len(created) + ambiguous
