"""Refusals that name their cause: the same words on the request path (HTTP body) and in
``check-token``'s explanation, the explanation adding the token's values next to the
configured ones. Tokens are signed with a shared secret so each test shapes its claims."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from jiraguard.auth.explain import explain
from tests.conftest import HarnessFactory, bearer

pytestmark = pytest.mark.anyio

SECRET = "diagnostics-shared-secret-32-bytes!"
ISSUER = "https://idp.example.test/realms/corp"


def provider(**extra: Any) -> dict[str, Any]:
    return {
        "name": "corp",
        "method": "jwt",
        "issuer": ISSUER,
        "audience": ["jira"],
        "algorithms": ["HS256"],
        "hmac_secret": SECRET,
        **extra,
    }


def token(**claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": "jira",
        "sub": "u-1",
        "preferred_username": "alice",
        "iat": now,
        "exp": now + 300,
        **claims,
    }
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, SECRET, "HS256")


async def test_a_wrong_username_attribute_lists_the_claims_present(
    harness: HarnessFactory,
) -> None:
    h = await harness([provider(username_attribute="upn")])
    await h.add_user("alice")
    expected = (
        "The username attribute (upn) of provider 'corp' was not found in the token's claims; "
        "claims present: aud, exp, iat, iss, preferred_username, sub"
    )
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token()))
    assert response.status_code == 401
    assert response.json()["errorMessages"] == [expected]
    report = await explain(h.settings, token())
    assert report["outcome"] == "rejected"
    assert report["reason"] == expected


async def test_a_client_token_without_username_says_so_too(harness: HarnessFactory) -> None:
    h = await harness([provider()])
    client_token = token(preferred_username=None, sub="svc", client_id="svc")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(client_token))
    message = response.json()["errorMessages"][0]
    assert "username attribute (preferred_username) of provider 'corp' was not found" in message
    assert "claims present: aud, client_id, exp, iat, iss, sub" in message
    assert message.endswith("or, for a token without a user, map the client svc in client_users")


async def test_a_wrong_issuer_shows_the_tokens_iss_next_to_the_configured_ones(
    harness: HarnessFactory,
) -> None:
    h = await harness([provider()])
    await h.add_user("alice")
    slashed = token(iss=ISSUER + "/")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(slashed))
    assert response.status_code == 401
    assert response.json()["errorMessages"] == [
        "No provider is configured for the token's issuer (iss)"
    ]
    assert ISSUER not in response.text  # the caller's value is not echoed
    report = await explain(h.settings, slashed)
    assert report["reason"] == (
        f"No provider is configured for the token's issuer '{ISSUER}/' "
        f"(configured jwt issuers: corp: {ISSUER})"
    )
    assert report["issuer"] == {"token": ISSUER + "/", "configured": {"corp": ISSUER}}


async def test_a_wrong_audience_shows_the_tokens_aud_and_the_expected_values(
    harness: HarnessFactory,
) -> None:
    h = await harness([provider(audience=["jira", "api://jira"])])
    report = await explain(h.settings, token(aud="account"))
    assert report["outcome"] == "rejected"
    (attempt,) = report["attempts"]
    assert attempt["mismatches"] == [
        {"claim": "aud", "token": "account", "expected": ["jira", "api://jira"]}
    ]
    assert attempt["reason"] == (
        "The access token is not meant for this service (audience): "
        "the token's aud is 'account', expected one of ['jira', 'api://jira']"
    )


@pytest.mark.parametrize(("leeway", "accepted"), [(0, False), (30, True)])
async def test_expiry_is_decided_alike_with_the_providers_leeway(
    harness: HarnessFactory, leeway: int, accepted: bool
) -> None:
    h = await harness([provider(leeway=leeway)])
    await h.add_user("alice")
    expired = token(exp=int(time.time()) - 10)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(expired))
    report = await explain(h.settings, expired)
    assert (response.status_code == 200) is accepted
    assert (report["outcome"] == "accepted") is accepted
    if not accepted:
        assert "expired" in response.json()["errorMessages"][0]
        assert "expired" in report["attempts"][0]["reason"]


@pytest.mark.parametrize("reachable", [False, True])
async def test_the_bootstrap_administrator_is_out_of_reach_of_provider_tokens(
    harness: HarnessFactory, reachable: bool
) -> None:
    h = await harness([provider()], admin={"bootstrap_reachable_by_tokens": reachable})
    await h.add_user("admin", admin=True)
    admin_token = token(preferred_username="Admin")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(admin_token))
    report = await explain(h.settings, admin_token)
    if reachable:
        assert response.status_code == 200
        assert report["outcome"] == "accepted"
        return
    expected = (
        "The Jira user admin is jiraguard's bootstrap administrator: provider tokens cannot "
        "act as it (admin.bootstrap_reachable_by_tokens)"
    )
    assert response.status_code == 401
    assert response.json()["errorMessages"] == [expected]
    assert report["reason"] == expected
