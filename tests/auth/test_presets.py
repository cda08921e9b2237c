"""Presets against the tokens the real providers issue.

Entra ID's discovery document cannot run here: a tiny HTTP server stands in for it, answering
what Microsoft documents (the issuer carries the tenant *id*, whatever the URL named). The
claim checks run against the real test provider where it issues the claim, else against
tokens signed with a shared secret shaped like the provider's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import jwt
import pytest

from jiraguard.settings import ConfigError, ProviderSettings, validate_settings
from tests.conftest import HarnessFactory, bearer, jwt_provider
from tests.support.idp import DEFAULT_CLIENT, TestProvider
from tests.support.tokens import SECRET, claims_for, signed

pytestmark = pytest.mark.anyio

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DOMAIN = "contoso.onmicrosoft.com"
V2_ISSUER = f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
V1_ISSUER = f"https://sts.windows.net/{TENANT_ID}/"


class _Discovery(BaseHTTPRequestHandler):
    """Entra ID's discovery documents for a tenant named by domain: v2.0 and v1.0."""

    documents: ClassVar[dict[str, str]] = {
        f"/{DOMAIN}/v2.0/.well-known/openid-configuration": V2_ISSUER,
        f"/{DOMAIN}/.well-known/openid-configuration": V1_ISSUER,
    }
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        issuer = self.documents.get(self.path)
        body = json.dumps({"issuer": issuer, "jwks_uri": "unused"}).encode() if issuer else b""
        self.send_response(200 if issuer else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def entra() -> Iterator[str]:
    _Discovery.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def azure(base_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "entra",
        "preset": "azure",
        "tenant": DOMAIN,
        "base_url": base_url,
        "audience": ["api://jira"],
        "algorithms": ["HS256"],  # the keys are not the point here: shared-secret tokens
        "hmac_secret": SECRET,
        **extra,
    }


def entra_token(iss: str, **claims: Any) -> str:
    return signed(claims_for("alice", iss=iss, aud="api://jira", tid=TENANT_ID, **claims), kid="k")


async def test_a_tenant_given_by_domain_accepts_the_tenant_id_issuer(
    entra: str, harness: HarnessFactory
) -> None:
    h = await harness([azure(entra)])
    await h.add_user("alice")
    as_written = f"https://login.microsoftonline.com/{DOMAIN}/v2.0"  # never in a real token
    assert (
        await h.client.get("/rest/api/2/myself", headers=bearer(entra_token(as_written)))
    ).status_code == 401
    for _ in range(2):
        response = await h.client.get("/rest/api/2/myself", headers=bearer(entra_token(V2_ISSUER)))
        assert response.status_code == 200, response.text
    assert _Discovery.asked == [f"/{DOMAIN}/v2.0/.well-known/openid-configuration"]  # once
    # v1.0 tokens only when asked for.
    v1 = entra_token(V1_ISSUER)
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(v1))).status_code == 401


async def test_v1_tokens_are_accepted_when_asked(entra: str, harness: HarnessFactory) -> None:
    h = await harness([azure(entra, accept_v1_tokens=True)])
    await h.add_user("alice")
    for issuer in (V1_ISSUER, V2_ISSUER):
        response = await h.client.get("/rest/api/2/myself", headers=bearer(entra_token(issuer)))
        assert response.status_code == 200, response.text


async def test_an_unreachable_discovery_document_is_503_naming_the_provider(
    harness: HarnessFactory,
) -> None:
    from tests.auth.redis_support import unused_port

    gone = f"http://127.0.0.1:{unused_port()}"
    h = await harness([azure(gone)])
    response = await h.client.get("/rest/api/2/myself", headers=bearer(entra_token(V2_ISSUER)))
    assert response.status_code == 503
    assert response.json()["errorMessages"] == [
        f"The identity provider entra could not be asked at {gone}/{DOMAIN}/v2.0/.well-known/"
        "openid-configuration to check your credentials. Try again later."
    ]


def _provider(**settings: Any) -> ProviderSettings:
    return validate_settings({"providers": [{"name": "p", **settings}]}).providers[0]


def test_a_tenant_id_gives_the_issuers_without_discovery() -> None:
    provider = _provider(
        preset="azure", tenant=TENANT_ID, audience=["api://jira"], accept_v1_tokens=True
    )
    assert provider.issuer == V2_ISSUER
    assert provider.issuers == [V1_ISSUER]
    assert provider.issuer_discovery == []


def test_multi_tenant_apps_need_a_tenant_allow_list() -> None:
    with pytest.raises(ConfigError) as refused:
        _provider(preset="azure", tenant="organizations", audience=["api://jira"])
    assert "needs allowed_tenants" in str(refused.value)
    other = "0b6c2f4e-3f3a-4e6f-9d2b-1c0a5e7d8f90"
    provider = _provider(
        preset="azure", tenant="common", audience=["api://jira"], allowed_tenants=[TENANT_ID]
    )
    assert provider.issuer == V2_ISSUER
    assert provider.required_claim_values == {"tid": [TENANT_ID]}
    assert other not in str(provider.model_dump())


async def test_a_multi_tenant_token_must_name_an_allowed_tid(harness: HarnessFactory) -> None:
    provider = {
        **azure("https://login.microsoftonline.com"),
        "tenant": "organizations",
        "allowed_tenants": [TENANT_ID],
    }
    h = await harness([provider])
    await h.add_user("alice")
    good = entra_token(V2_ISSUER)
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(good))).status_code == 200
    mixed = signed(claims_for("alice", iss=V2_ISSUER, aud="api://jira", tid="someone-else"))
    refused = await h.client.get("/rest/api/2/myself", headers=bearer(mixed))
    assert refused.status_code == 401
    assert "tid claim is not an accepted value" in refused.text


async def test_cognito_accepts_access_tokens_only(harness: HarnessFactory) -> None:
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf"
    provider = {
        "name": "cognito",
        "preset": "cognito",
        "region": "eu-west-1",
        "user_pool_id": "eu-west-1_AbCdEf",
        "allowed_client_ids": ["app-1"],
        "algorithms": ["HS256"],
        "hmac_secret": SECRET,
    }
    h = await harness([provider])
    await h.add_user("alice")

    def token(use: str) -> str:
        claims = {"iss": issuer, "username": "alice", "client_id": "app-1", "token_use": use}
        return signed({**claims_for("alice"), **claims})

    assert (
        await h.client.get("/rest/api/2/myself", headers=bearer(token("access")))
    ).status_code == 200
    refused = await h.client.get("/rest/api/2/myself", headers=bearer(token("id")))
    assert refused.status_code == 401
    assert "token_use claim is not an accepted value (accepted: access)" in refused.text


def test_keycloak_without_audience_says_why_account_is_not_enough() -> None:
    with pytest.raises(ConfigError) as refused:
        _provider(preset="keycloak", base_url="https://sso.example.com", realm="corp")
    assert "aud = account" in str(refused.value)
    assert "audience mapper" in str(refused.value)


def test_okta_org_and_custom_authorization_servers() -> None:
    custom = _provider(preset="okta", domain="acme.okta.com")
    assert custom.issuer == "https://acme.okta.com/oauth2/default"
    assert custom.jwks_uri == "https://acme.okta.com/oauth2/default/v1/keys"
    assert custom.audience == ["api://default"]
    org = _provider(
        preset="okta",
        domain="acme.okta.com",
        authorization_server="org",
        client_id="c",
        client_secret="s",
    )
    assert (org.method, org.issuer) == ("introspection", "https://acme.okta.com")
    assert org.introspection_endpoint == "https://acme.okta.com/oauth2/v1/introspect"


async def test_required_claim_values_with_the_real_provider(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    token = idp.jwt_token("alice")
    client = jwt.decode(token, options={"verify_signature": False})["client_id"]
    assert client == DEFAULT_CLIENT[0]
    wrong = await harness([jwt_provider(idp, required_claim_values={"client_id": ["another"]})])
    right = await harness([jwt_provider(idp, required_claim_values={"client_id": [client]})])
    await wrong.add_user("alice")  # one database for both
    refused = await wrong.client.get("/rest/api/2/myself", headers=bearer(token))
    assert refused.status_code == 401
    assert "client_id claim is not an accepted value (accepted: another)" in refused.text
    accepted = await right.client.get("/rest/api/2/myself", headers=bearer(token))
    assert accepted.status_code == 200
