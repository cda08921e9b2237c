"""The test OpenID provider harness (tests/support/idp.py + tests/idp/server.mjs) works."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.idp import DEFAULT_CLIENT, RESOURCE, SERVICE_CLIENT, TestProvider
from tests.support.services import missing

pytestmark = pytest.mark.idp


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestProvider]:
    """One provider for the module (tests that restart it use their own)."""
    if shutil.which("node") is None:
        missing("Node.js", "`node` is not on PATH (needed for the test OpenID provider)")
    with TestProvider(workdir=tmp_path_factory.mktemp("idp")) as provider:
        yield provider


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        yield client


def _verify_jwt(http: httpx.Client, idp: TestProvider, token: str) -> dict[str, object]:
    jwks = jwt.PyJWKSet.from_dict(http.get(idp.jwks_uri).json())
    key = jwks[jwt.get_unverified_header(token)["kid"]]
    claims: dict[str, object] = jwt.decode(
        token, key, algorithms=["RS256"], audience=RESOURCE, issuer=idp.issuer
    )
    return claims


def _introspect(http: httpx.Client, idp: TestProvider, token: str) -> httpx.Response:
    return http.post(
        idp.introspection_endpoint, data={"token": token}, auth=httpx.BasicAuth(*DEFAULT_CLIENT)
    )


def test_discovery_answers(idp: TestProvider, http: httpx.Client) -> None:
    response = http.get(idp.discovery_url)

    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == idp.issuer
    assert document["jwks_uri"] == f"{idp.issuer}/jwks"
    assert document["introspection_endpoint"] == f"{idp.issuer}/token/introspection"
    assert document["userinfo_endpoint"] == f"{idp.issuer}/me"
    assert idp.token_endpoint == f"{idp.issuer}/token"


def test_jwt_token_verifies_and_carries_account_claims(
    idp: TestProvider, http: httpx.Client
) -> None:
    token = idp.jwt_token("alice")

    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    claims = _verify_jwt(http, idp, token)
    assert claims["sub"] == "alice"
    assert claims["client_id"] == "jiraguard"
    assert claims["preferred_username"] == "alice"
    assert claims["email"] == "alice@example.com"
    assert claims["groups"] == ["jira-users"]
    assert claims["scope"] == "openid profile email jira:read"


def test_unknown_account_gets_default_claims(idp: TestProvider, http: httpx.Client) -> None:
    claims = _verify_jwt(http, idp, idp.jwt_token("zoe"))

    assert claims["preferred_username"] == "zoe"
    assert claims["email"] == "zoe@example.com"
    assert "groups" not in claims


def test_opaque_user_token_userinfo_introspection_and_revocation(
    idp: TestProvider, http: httpx.Client
) -> None:
    token = idp.user_token("alice", scope="openid profile email jira:read")
    assert token.count(".") == 0  # opaque

    userinfo = http.get(idp.userinfo_endpoint, headers={"Authorization": f"Bearer {token}"})
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == "alice"
    assert userinfo.json()["preferred_username"] == "alice"

    introspection = _introspect(http, idp, token)
    assert introspection.status_code == 200
    body = introspection.json()
    assert body["active"] is True
    assert body["sub"] == "alice"
    assert body["preferred_username"] == "alice"
    assert body["groups"] == ["jira-users"]
    assert body["client_id"] == "jiraguard"
    assert body["scope"] == "openid profile email jira:read"

    idp.revoke(token)

    assert _introspect(http, idp, token).json() == {"active": False}
    after = http.get(idp.userinfo_endpoint, headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401


def test_introspection_of_another_clients_token(idp: TestProvider, http: httpx.Client) -> None:
    token = idp.user_token("bob", client=SERVICE_CLIENT)

    body = _introspect(http, idp, token).json()

    assert body["active"] is True
    assert body["client_id"] == "service-bot"
    assert body["groups"] == ["jira-users", "jira-administrators"]


def test_client_credentials_token_has_no_user(idp: TestProvider, http: httpx.Client) -> None:
    token = idp.client_credentials_token(*SERVICE_CLIENT, resource=RESOURCE)

    claims = _verify_jwt(http, idp, token)
    assert claims["client_id"] == "service-bot"
    assert claims["scope"] == "jira:read"
    assert "preferred_username" not in claims
    assert "email" not in claims


def test_stats_count_introspection_calls(idp: TestProvider, http: httpx.Client) -> None:
    token = idp.user_token("alice")
    idp.reset_stats()

    for _ in range(3):
        _introspect(http, idp, token)
    http.get(idp.jwks_uri)

    assert idp.stats() == {"/token/introspection": 3, "/jwks": 1}


def test_restart_rotates_keys_or_keeps_them(tmp_path: Path, http: httpx.Client) -> None:
    if shutil.which("node") is None:
        missing("Node.js", "`node` is not on PATH (needed for the test OpenID provider)")
    with TestProvider(workdir=tmp_path, access_token_ttl=60) as idp:
        issuer = idp.issuer
        first = idp.jwt_token("alice")
        first_kid = jwt.get_unverified_header(first)["kid"]

        idp.restart(rotate_keys=False)
        assert idp.issuer == issuer
        assert _verify_jwt(http, idp, first)["sub"] == "alice"

        idp.restart(rotate_keys=True)
        second = idp.jwt_token("alice")
        assert idp.issuer == issuer
        assert jwt.get_unverified_header(second)["kid"] != first_kid
        with pytest.raises(KeyError):
            _verify_jwt(http, idp, first)
        claims = _verify_jwt(http, idp, second)
        assert claims["exp"] == claims["iat"] + 60  # type: ignore[operator]
