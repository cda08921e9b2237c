"""Operations endpoints on the real app: /readyz, /metrics, and Redis being down."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from jiraguard.app import create_app
from jiraguard.auth.authenticator import hash_password
from jiraguard.auth.principal import fingerprint
from tests.auth.redis_support import (
    REDIS_URL,
    down_url,
    redis_client,
    unique_prefix,
    unused_port,
)
from tests.conftest import BASE_URL, HarnessFactory, bearer, introspection_provider, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio


async def test_healthz_and_readyz_are_public(harness: HarnessFactory) -> None:
    h = await harness()
    assert (await h.client.get("/healthz")).text == "ok"
    response = await h.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.postgres
async def test_readyz_names_a_missing_database(harness: HarnessFactory) -> None:
    h = await harness(url="postgresql://postgres@127.0.0.1:5432/jiraguard_no_such_database")
    response = await h.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("database unavailable")


@pytest.mark.redis
async def test_readyz_pings_redis(harness: HarnessFactory) -> None:
    prefix = unique_prefix()
    async with redis_client(prefix):
        h = await harness(redis={"url": REDIS_URL, "key_prefix": prefix})
        response = await h.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_names_redis_down_and_stays_ready(harness: HarnessFactory) -> None:
    """Redis is shared: its outage must not take every process out of the load balancer at
    once, while each still serves without it (test_requests_succeed_with_redis_down)."""
    h = await harness(redis={"url": down_url()})
    response = await h.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"].startswith("Redis unavailable")
    assert response.json()["checks"]["database"] == "ok"


async def test_readyz_names_a_provider_without_keys(harness: HarnessFactory) -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    gone = {"name": "gone", "method": "jwt", "issuer": dead, "jwks_uri": dead, "audience": ["jira"]}
    h = await harness([gone])
    ready = await h.client.get("/readyz")
    assert ready.status_code == 200  # nothing attempted yet: no provider call per probe
    assert ready.json()["checks"]["provider:gone"].startswith("ok")
    token = f"{_b64({'alg': 'RS256', 'kid': 'k'})}.{_b64({'iss': dead})}.c2ln"
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 503
    ready = await h.client.get("/readyz")
    assert ready.status_code == 200  # a provider's outage is every process's: still ready
    assert ready.json()["status"] == "degraded"
    assert "JWKS" in ready.json()["checks"]["provider:gone"]


async def test_readyz_names_an_introspection_provider_that_cannot_be_reached(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    gone = {
        "name": "gone",
        "method": "introspection",
        "issuer": dead,
        "introspection_endpoint": dead + "/introspect",
        "client_id": "jiraguard",
        "client_secret": "x",
    }
    h = await harness([introspection_provider(idp), gone])
    await h.add_user("alice")
    checks = (await h.client.get("/readyz")).json()["checks"]
    assert checks["provider:gone"] == checks["provider:corp-opaque"] == "ok (not asked yet)"
    # The first provider accepts the token: the second is never asked.
    token = idp.user_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    # An unknown token goes to both; the second cannot be reached, so the answer is 503.
    response = await h.client.get("/rest/api/2/myself", headers=bearer("opaque-unknown"))
    assert response.status_code == 503
    ready = await h.client.get("/readyz")
    assert ready.status_code == 200  # corp-opaque's tokens are still served
    assert ready.json()["status"] == "degraded"
    checks = ready.json()["checks"]
    assert checks["provider:corp-opaque"] == "ok"
    assert checks["provider:gone"].startswith("unreachable")


def _b64(data: dict[str, str]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_requests_succeed_with_redis_down(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness(
        [jwt_provider(idp)], redis={"url": down_url()}, rate_limits={"per_user": "100/minute"}
    )
    await h.add_user("alice")
    for _ in range(3):
        response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
        assert response.status_code == 200
    assert h.services.redis_outage is not None
    assert h.services.redis_outage.errors >= 3


@pytest.mark.redis
async def test_rate_limit_is_shared_by_two_apps(idp: TestProvider, harness: HarnessFactory) -> None:
    prefix = unique_prefix()
    async with redis_client(prefix):
        config = {"url": REDIS_URL, "key_prefix": prefix}
        one = await harness([jwt_provider(idp)], redis=config, rate_limits={"per_user": "3/hour"})
        two = await harness([jwt_provider(idp)], redis=config, rate_limits={"per_user": "3/hour"})
        await one.add_user("bob")
        token = idp.jwt_token("bob")
        statuses = []
        for app in (one, two, one, two):
            statuses.append(
                (await app.client.get("/rest/api/2/myself", headers=bearer(token))).status_code
            )
        assert statuses == [200, 200, 200, 429]
        metrics = await two.client.get("/metrics")
    assert "jiraguard_rate_limited_requests_total 1.0" in metrics.text
    # two's first request found bob in Redis (one = the process that checked the token).
    assert (
        'jiraguard_principal_cache_lookups_total{level="shared",result="hit"} 1.0' in metrics.text
    )
    assert "jiraguard_redis_errors_total 0.0" in metrics.text


async def test_metrics_after_a_few_requests(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("carol")
    token = idp.jwt_token("carol")
    for _ in range(2):
        await h.client.get("/rest/api/2/issue/TEST-1", headers=bearer(token))
    await h.client.get("/rest/api/2/myself", headers=bearer("not-a-token"))
    response = await h.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for name in (
        'jiraguard_decisions_total{outcome="allowed",provider="corp",reason="authenticated",'
        'status="200"} 2.0',
        'jiraguard_decisions_total{outcome="denied",provider="none",reason="invalid_token",'
        'status="401"} 1.0',
        'jiraguard_token_validation_seconds_count{method="jwt",outcome="accepted"} 1.0',
        'jiraguard_provider_request_seconds_count{host="127.0.0.1",status="2xx"}',
        "jiraguard_configuration_reloads_total 0.0",
        'jiraguard_principal_cache_lookups_total{level="local",result="hit"} 1.0',
        "jiraguard_provider_calls_total",
        'jiraguard_jwks_fetches_total{provider="corp"} 1.0',
        "jiraguard_rate_limited_requests_total 0.0",
        'route="/rest/api/2/issue/{issue}"',
        'jiraguard_http_requests_total{method="GET",route="/rest/api/2/myself",status="401"} 1.0',
        'jiraguard_http_requests_total{method="GET",route="/rest/api/2/issue/{issue}",status="404"}',
        "jiraguard_http_request_duration_seconds_bucket",
        "jiraguard_audit_dropped_records_total 0.0",
        "jiraguard_audit_rejected_rows_total 0.0",
        "jiraguard_audit_pending_records",
        "jiraguard_principal_cache_forged_entries_total 0.0",
    ):
        assert name in text, name
    assert "TEST-1" not in text  # the template, never the raw path
    assert token not in text


async def test_metrics_need_the_token_when_one_is_set(harness: HarnessFactory) -> None:
    h = await harness(metrics={"token": "scrape-secret"})
    assert (await h.client.get("/metrics")).status_code == 401
    assert (await h.client.get("/metrics", headers=bearer("wrong"))).status_code == 401
    response = await h.client.get("/metrics", headers=bearer("scrape-secret"))
    assert response.status_code == 200
    assert "jiraguard_decisions_total" in response.text or "jiraguard_decisions" in response.text


async def test_metrics_without_token_only_for_loopback(harness: HarnessFactory) -> None:
    h = await harness()
    app = create_app(h.settings, h.services)
    remote = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=remote, base_url=BASE_URL) as client:
        response = await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert response.status_code == 403
    assert (await h.client.get("/metrics")).status_code == 200


async def test_metrics_can_be_disabled(harness: HarnessFactory) -> None:
    h = await harness(metrics={"enabled": False})
    assert (await h.client.get("/metrics")).status_code == 404


async def test_basic_logins_are_never_shared_through_redis(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """A shared cache key for Basic would be an unsalted hash of user:password in Redis."""
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        h = await harness(
            [jwt_provider(idp)],
            redis={"url": REDIS_URL, "key_prefix": prefix},
            auth={"block_basic": False},
        )
        await h.add_user("carol", password_hash=hash_password("right horse"))
        basic = "Basic " + base64.b64encode(b"carol:right horse").decode()
        response = await h.client.get("/rest/api/2/myself", headers={"Authorization": basic})
        assert response.status_code == 200
        await h.add_user("alice")
        token = idp.jwt_token("alice")
        assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        assert len(keys) == 1  # the bearer token's entry, and nothing for the Basic login
        assert fingerprint(token).encode() in keys[0]
