"""Local JWT validation against the real test provider (RFC 7519, RFC 9068, RFC 8725)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jiraguard.store.audit import AuditFilter, AuditLog
from tests.conftest import HarnessFactory, bearer, jwt_provider
from tests.support.idp import RESOURCE, TestProvider

pytestmark = pytest.mark.anyio


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


async def test_valid_jwt_returns_the_jira_user(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice", display_name="Alice A", groups=["jira-users"])
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert body["name"] == "alice"
    assert body["key"].startswith("JIRAUSER")
    assert body["displayName"] == "Alice A"
    assert body["emailAddress"] == "alice@example.com"
    assert body["active"] is True
    assert body["self"] == "http://jira.test/rest/api/2/user?username=alice"


async def test_server_info_has_jiras_shape(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    response = await h.client.get("/rest/api/2/serverInfo", headers=bearer(idp.jwt_token("alice")))
    body = response.json()
    assert response.status_code == 200
    assert body["deploymentType"] == "Server"
    assert body["versionNumbers"][0] >= 9
    assert body["version"] == ".".join(map(str, body["versionNumbers"]))
    assert body["baseUrl"] == "http://jira.test"


@pytest.mark.parametrize("path", ["/rest/api/2/serverInfo", "/rest/api/latest/myself", "/rest/x"])
async def test_every_rest_path_needs_a_token(
    idp: TestProvider, harness: HarnessFactory, path: str
) -> None:
    h = await harness([jwt_provider(idp)])
    response = await h.client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="jiraguard"'
    assert response.json() == {
        "errorMessages": [
            "You are not authenticated. Authentication required to perform this operation."
        ],
        "errors": {},
    }


async def test_unknown_user_is_rejected(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)])
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("carol")))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "carol" in response.json()["errorMessages"][0]


async def test_create_users_provisions_from_claims(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([jwt_provider(idp)], auth={"create_users": True})
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert response.status_code == 200
    assert response.json()["displayName"] == "Alice A"
    user = await h.services.users.get("alice")
    assert user is not None
    assert user.email == "alice@example.com"


async def test_disabled_user_is_rejected(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    await h.services.users.set_active("alice", False)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert response.status_code == 401
    assert "disabled" in response.json()["errorMessages"][0]
    # The refusal is about alice: the audit finds it under her name.
    await h.services.audit.flush()
    where = AuditFilter(username="alice", allowed=False, kind="auth")
    total, events = await AuditLog(h.services.db).search(where, start_at=0, max_results=5)
    assert total == 1
    assert "disabled" in events[0].reason


async def test_wrong_audience_is_rejected(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp, audience=["https://other.example"])])
    await h.add_user("alice")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert response.status_code == 401
    assert "audience" in response.headers["www-authenticate"]


async def test_wrong_issuer_is_not_routed(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp, issuer="http://127.0.0.1:1/elsewhere")])
    await h.add_user("alice")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert response.status_code == 401


async def test_tampered_payload_fails_signature(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    await h.add_user("bob")
    header, claims, signature = _parts(idp.jwt_token("alice"))
    forged = f"{_b64(header)}.{_b64({**claims, 'preferred_username': 'bob'})}.{signature}"
    response = await h.client.get("/rest/api/2/myself", headers=bearer(forged))
    assert response.status_code == 401
    assert "signature" in response.headers["www-authenticate"]


async def test_alg_none_is_impossible(idp: TestProvider, harness: HarnessFactory) -> None:
    """RFC 8725 §3.1: the algorithm comes from configuration, never from the token."""
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    _, claims, _ = _parts(idp.jwt_token("alice"))
    forged = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims)}."
    response = await h.client.get("/rest/api/2/myself", headers=bearer(forged))
    assert response.status_code in (400, 401)  # an empty signature is malformed (RFC 6750)


async def test_hmac_signed_with_the_public_key_is_rejected(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """The classic key-confusion attack: HS256 keyed with the provider's RSA public key."""
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    header, claims, _ = _parts(idp.jwt_token("alice"))
    public = jwt.PyJWK(idp.jwks["keys"][0]).key
    assert isinstance(public, rsa.RSAPrivateKey)
    pem = public.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    forged_header = _b64({**header, "alg": "HS256"})
    signing_input = f"{forged_header}.{_b64(claims)}".encode()
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(hmac.new(pem, signing_input, hashlib.sha256).digest())
    forged = signing_input.decode() + "." + signature.rstrip(b"=").decode()
    response = await h.client.get("/rest/api/2/myself", headers=bearer(forged))
    assert response.status_code == 401
    assert "algorithm" in response.headers["www-authenticate"]


async def test_jku_header_is_ignored(idp: TestProvider, harness: HarnessFactory) -> None:
    """A token signed by an attacker's key, pointing at the attacker's JWKS, must fail."""
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    _, claims, _ = _parts(idp.jwt_token("alice"))
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims,
        attacker,
        algorithm="RS256",
        headers={"kid": "attacker", "jku": "http://127.0.0.1:9/jwks", "typ": "at+jwt"},
    )
    response = await h.client.get("/rest/api/2/myself", headers=bearer(forged))
    assert response.status_code == 401
    assert "key" in response.headers["www-authenticate"]


async def test_token_type_is_checked_when_configured(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """RFC 9068 §4: resource servers MUST verify typ is at+jwt when they expect it."""
    h = await harness([jwt_provider(idp, token_type="at+jwt")])
    await h.add_user("alice")
    good = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert good.status_code == 200
    h2 = await harness([jwt_provider(idp, token_type="id+jwt")])  # same database
    bad = await h2.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert bad.status_code == 401


async def test_expired_token_is_rejected(fresh_idp: Any, harness: HarnessFactory) -> None:
    # exp is whole seconds: a 1 s token minted late in a second may be expired before its
    # first use on a busy machine; 3 s leaves room for that.
    provider = fresh_idp(access_token_ttl=3)
    h = await harness([jwt_provider(provider)])
    await h.add_user("alice")
    token = provider.jwt_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    await asyncio.sleep(4.1)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.headers["www-authenticate"]


async def test_two_providers_route_by_issuer(fresh_idp: Any, harness: HarnessFactory) -> None:
    first, second = fresh_idp(), fresh_idp()
    h = await harness([jwt_provider(first, "first"), jwt_provider(second, "second")])
    await h.add_user("alice")
    for provider in (first, second):
        response = await h.client.get(
            "/rest/api/2/myself", headers=bearer(provider.jwt_token("alice"))
        )
        assert response.status_code == 200
    assert first.stats().get("/jwks") == 1
    assert second.stats().get("/jwks") == 1


async def test_key_rotation_without_restart(fresh_idp: Any, harness: HarnessFactory) -> None:
    provider = fresh_idp()
    h = await harness(
        [jwt_provider(provider)], auth={"jwks_min_refresh_interval": 0, "cache_ttl": 4}
    )
    await h.add_user("alice")
    old = provider.jwt_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(old))).status_code == 200
    cached = time.monotonic()
    provider.restart(rotate_keys=True)  # seconds on a loaded machine: within the 4 s entry
    new = provider.jwt_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(new))).status_code == 200
    # The old token is still served from the cache until its entry ends, then refused.
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(old))).status_code == 200
    await asyncio.sleep(max(0.0, cached + 4.1 - time.monotonic()))
    refused = await h.client.get("/rest/api/2/myself", headers=bearer(old))
    assert refused.status_code == 401
    assert "key" in refused.headers["www-authenticate"]


async def test_provider_down_serves_cached_and_503_for_new(
    fresh_idp: Any, harness: HarnessFactory
) -> None:
    provider = fresh_idp()
    h = await harness([jwt_provider(provider)], auth={"cache_ttl": 1})
    await h.add_user("alice")
    known = provider.jwt_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(known))).status_code == 200
    # Keys are held: a new token signed by the same key still validates with the provider down.
    other = provider.jwt_token("alice", scope="openid")
    provider.stop()
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(known))).status_code == 200
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(other))).status_code == 200


async def test_first_contact_with_provider_down_is_503(
    fresh_idp: Any, harness: HarnessFactory
) -> None:
    provider = fresh_idp()
    h = await harness([jwt_provider(provider)])
    await h.add_user("alice")
    token = provider.jwt_token("alice")
    provider.stop()
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 503
    assert "www-authenticate" not in response.headers
    assert response.json()["errorMessages"][0].startswith(
        f"The identity provider corp could not be asked at {provider.issuer}/"
    )
    assert RESOURCE not in response.text


async def test_a_signature_spelled_outside_base64url_is_malformed(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """A character outside the alphabet is not skipped (``base64.urlsafe_b64decode`` would):
    the token is refused as malformed, as PyJWT refuses it."""
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    token = idp.jwt_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    head, _, signature = token.rpartition(".")
    for spelled in (signature[:10] + "~" + signature[10:], signature[:-1] + "+", signature + "="):
        response = await h.client.get("/rest/api/2/myself", headers=bearer(f"{head}.{spelled}"))
        assert response.status_code == 401
        assert "malformed" in response.headers["www-authenticate"]


async def test_a_forged_token_is_refused_for_its_signature_before_its_claims_are_read(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([jwt_provider(idp)])
    header, claims, signature = _parts(idp.jwt_token("alice"))
    forged = f"{_b64(header)}.{_b64({**claims, 'exp': 'soon'})}.{signature}"
    response = await h.client.get("/rest/api/2/myself", headers=bearer(forged))
    assert response.status_code == 401
    assert "signature" in response.headers["www-authenticate"]
