"""What the gateway sends Jira in ``oauth1_impersonation`` mode (RFC 5849 §3.4.1, §3.5.1),
checked on the wire by an independent implementation (oauthlib's server-side RSA-SHA1)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import pytest

from tests.conftest import HarnessFactory, bearer
from tests.gateway.conftest import gateway
from tests.proxy.test_oauth1_signer import oauthlib_verifies
from tests.support.idp import TestProvider
from tests.support.rsa_keys import KeyPair, new_key_pair

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return new_key_pair()


def _oauth1(keys: KeyPair) -> dict[str, object]:
    return {
        "identity": "oauth1_impersonation",
        "consumer_key": "jiraguard-gateway",
        "private_key": keys.private_pem,
    }


def _seen(echo: httpx.Response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in echo.json()["headers"]:
        found.setdefault(name, []).append(value)
    return found


async def test_the_request_is_signed_and_names_the_token_user_in_the_query(
    harness: HarnessFactory, idp: TestProvider, upstream: str, keys: KeyPair
) -> None:
    h = await gateway(harness, idp, upstream, upstream=_oauth1(keys))
    token = idp.jwt_token("alice")
    target = "/rest/api/2/search?jql=project%20%3D%20X&xoauth_requestor_id=admin&user_id=root"
    response = await h.client.get(target, headers=bearer(token))
    assert response.status_code == 200, response.text
    echoed = response.json()
    seen = _seen(response)
    (authorization,) = seen["authorization"]
    assert authorization.startswith("OAuth ")
    assert token not in response.text
    assert 'oauth_token=""' in authorization  # two-legged: present and empty
    sent = echoed["target"]
    query = parse_qsl(sent.partition("?")[2])
    assert query == [("jql", "project = X"), ("xoauth_requestor_id", "alice")]
    url = f"{upstream}{sent}"
    assert oauthlib_verifies(keys.public_pem, "GET", url, authorization.encode(), None)
    assert not oauthlib_verifies(
        keys.public_pem, "GET", url.replace("alice", "bob"), authorization.encode(), None
    )


async def test_a_form_body_is_signed_and_one_naming_a_user_is_refused(
    harness: HarnessFactory, idp: TestProvider, upstream: str, keys: KeyPair
) -> None:
    h = await gateway(harness, idp, upstream, upstream=_oauth1(keys))
    form = {"content-type": "application/x-www-form-urlencoded", **bearer(idp.jwt_token("bob"))}
    body = b"summary=a+b&labels=x%2Fy"
    response = await h.client.post("/rest/api/2/echo", content=body, headers=form)
    assert response.status_code == 200, response.text
    (authorization,) = _seen(response)["authorization"]
    url = f"{upstream}{response.json()['target']}"
    assert response.json()["length"] == len(body)
    assert oauthlib_verifies(keys.public_pem, "POST", url, authorization.encode(), body)
    assert not oauthlib_verifies(keys.public_pem, "POST", url, authorization.encode(), b"x=1")
    for named in (b"xoauth_requestor_id=alice", b"user_id=alice", b"oauth_token=x"):
        refused = await h.client.post("/rest/api/2/echo", content=named, headers=form)
        assert refused.status_code == 400, named
        assert "target" not in refused.json()


@pytest.mark.parametrize("mode", ["trusted_header", "service_account", "oauth1_impersonation"])
async def test_a_provider_token_never_reaches_jira_in_any_mode(
    harness: HarnessFactory, idp: TestProvider, upstream: str, keys: KeyPair, mode: str
) -> None:
    sections: dict[str, object] = {
        "trusted_header": {},
        "service_account": {"identity": "service_account", "service_account_token": "svc-pat"},
        "oauth1_impersonation": _oauth1(keys),
    }[mode]
    h = await gateway(harness, idp, upstream, upstream={**sections, "pass_jira_credentials": True})
    token = idp.jwt_token("alice")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert token not in response.text
    assert all(
        not value.startswith("Bearer " + token[:20])
        for value in _seen(response).get("authorization", [])
    )
