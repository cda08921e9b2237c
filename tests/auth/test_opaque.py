"""Opaque tokens: RFC 7662 introspection and the userinfo endpoint, against the real provider."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pytest

from jiraguard.auth.credentials import BearerToken
from tests.conftest import HarnessFactory, bearer, introspection_provider, userinfo_provider
from tests.support.idp import SERVICE_CLIENT, TestProvider

pytestmark = pytest.mark.anyio


async def test_introspected_token_maps_to_the_user(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([introspection_provider(idp)])
    await h.add_user("alice")
    token = idp.user_token("alice")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["name"] == "alice"


async def test_token_issued_to_another_client_is_introspected(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([introspection_provider(idp)])
    await h.add_user("bob")
    token = idp.user_token("bob", client=SERVICE_CLIENT)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 200


async def test_revocation_is_seen_after_the_cache_ttl(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([introspection_provider(idp)], auth={"cache_ttl": 1})
    await h.add_user("alice")
    token = idp.user_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    idp.revoke(token)
    # Within the TTL the cached principal still answers: that is the documented trade-off.
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    await asyncio.sleep(1.1)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 401
    assert "not active" in response.headers["www-authenticate"]


async def test_expired_opaque_token(fresh_idp: Any, harness: HarnessFactory) -> None:
    # exp is whole seconds: 3 s leaves a busy machine room for the first request.
    provider = fresh_idp(access_token_ttl=3)
    h = await harness([introspection_provider(provider)])
    await h.add_user("alice")
    token = provider.user_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    await asyncio.sleep(4.1)
    # The cache entry ended with the token's exp, so the provider is asked and says inactive.
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 401


async def test_client_credentials_token_has_no_user(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([introspection_provider(idp)])
    token = idp.client_credentials_token(*SERVICE_CLIENT)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 401
    message = response.json()["errorMessages"][0]
    assert "username attribute (preferred_username) of provider" in message
    assert f"map the client {SERVICE_CLIENT[0]} in client_users" in message


async def test_wrong_client_secret_is_503_not_401(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """Our own misconfiguration is not the caller's bad token."""
    h = await harness([introspection_provider(idp, client_secret="wrong")])
    await h.add_user("alice")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.user_token("alice")))
    assert response.status_code == 503


async def test_single_flight_one_provider_call_for_100_requests(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([introspection_provider(idp)])
    await h.add_user("alice")
    token = idp.user_token("alice")
    idp.reset_stats()
    responses = await asyncio.gather(
        *(h.client.get("/rest/api/2/myself", headers=bearer(token)) for _ in range(100))
    )
    assert [r.status_code for r in responses] == [200] * 100
    assert idp.stats().get("/token/introspection") == 1


async def test_single_flight_shares_a_refusal_and_leaves_nothing_unretrieved(
    idp: TestProvider, harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A token the provider refuses, sent by 100 requests at once: one provider call, the
    same 401 for all, and no future left holding an exception nobody read."""
    h = await harness([introspection_provider(idp)])
    idp.reset_stats()
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        responses = await asyncio.gather(
            *(h.client.get("/rest/api/2/myself", headers=bearer("not-a-token")) for _ in range(100))
        )
        gc.collect()  # a future whose exception was never retrieved says so when collected
    assert [r.status_code for r in responses] == [401] * 100
    assert len({r.headers["www-authenticate"] for r in responses}) == 1
    assert idp.stats().get("/token/introspection") == 1
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert not h.services.path.authenticator._inflight


async def test_a_check_whose_request_went_away_is_made_again_for_those_waiting(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """The first request for a token checks it; one that comes meanwhile waits for that
    answer. If the first goes away (its client hung up) before the provider answered, the
    one waiting checks the token itself rather than failing."""
    h = await harness([introspection_provider(idp)])
    await h.add_user("alice")
    token = BearerToken(idp.user_token("alice"), "header")
    authenticator = h.services.path.authenticator
    idp.reset_stats()
    first = asyncio.create_task(authenticator.bearer(token))
    for _ in range(1000):  # until the first is asking the provider
        if authenticator._inflight:
            break
        await asyncio.sleep(0)
    waiting = asyncio.create_task(authenticator.bearer(token))
    await asyncio.sleep(0)
    first.cancel()
    principal = await waiting
    assert first.cancelled()
    assert principal.username == "alice"
    assert idp.stats().get("/token/introspection") in (1, 2)  # the first may have got its answer
    assert not authenticator._inflight


async def test_negative_cache_spares_the_provider(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([introspection_provider(idp)])
    idp.reset_stats()
    for _ in range(5):
        response = await h.client.get("/rest/api/2/myself", headers=bearer("not-a-real-token"))
        assert response.status_code == 401
    assert idp.stats().get("/token/introspection") == 1


async def test_userinfo_token_maps_to_the_user(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([userinfo_provider(idp)])
    await h.add_user("alice")
    response = await h.client.get(
        "/rest/api/2/myself", headers=bearer(idp.user_token("alice", scope="openid profile"))
    )
    assert response.status_code == 200
    assert response.json()["name"] == "alice"


async def test_userinfo_refuses_token_without_openid(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([userinfo_provider(idp)])
    await h.add_user("alice")
    response = await h.client.get(
        "/rest/api/2/myself", headers=bearer(idp.user_token("alice", scope="profile"))
    )
    assert response.status_code == 401


async def test_userinfo_revoked_token(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([userinfo_provider(idp)], auth={"cache_ttl": 0})
    await h.add_user("alice")
    token = idp.user_token("alice", scope="openid profile")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    idp.revoke(token)
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 401


async def test_opaque_tokens_try_providers_in_order(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """A token the first provider rejects is accepted by the second."""
    h = await harness([userinfo_provider(idp), introspection_provider(idp)])
    await h.add_user("alice")
    token = idp.user_token("alice", scope="profile")  # userinfo refuses it (no openid)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 200


async def test_provider_down_is_503_and_cache_still_serves(
    fresh_idp: Any, harness: HarnessFactory
) -> None:
    provider = fresh_idp()
    h = await harness([introspection_provider(provider)])
    await h.add_user("alice")
    cached = provider.user_token("alice")
    fresh = provider.user_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(cached))).status_code == 200
    provider.stop()
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(cached))).status_code == 200
    response = await h.client.get("/rest/api/2/myself", headers=bearer(fresh))
    assert response.status_code == 503
    # A 503 is not remembered: once the provider is back the token is checked again.
    provider.start()
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(fresh))).status_code == 401
