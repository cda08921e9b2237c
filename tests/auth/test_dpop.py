"""DPoP at the resource server (RFC 9449), with tokens the real test provider binds to a key."""

from __future__ import annotations

import time
from typing import Any
from urllib.request import parse_http_list, parse_keqv_list

import pytest

from jiraguard.auth.confirmation import jwk_thumbprint
from jiraguard.auth.dpop import DPoPVerifier, normalised_uri
from jiraguard.auth.errors import InvalidDPoPProof
from jiraguard.auth.replay import MemoryReplayCache
from tests.conftest import BASE_URL, Harness, HarnessFactory, introspection_provider, jwt_provider
from tests.support.dpop import DPoPKey, token_hash
from tests.support.idp import RESOURCE, TestProvider

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

ME = "/rest/api/2/myself"
URL = BASE_URL + ME


def challenges(header: str) -> dict[str, dict[str, str]]:
    """A ``WWW-Authenticate`` value as a client reads it: scheme → parameters (RFC 7235)."""
    found: dict[str, dict[str, str]] = {}
    scheme = ""
    for item in parse_http_list(header):
        first, _, rest = item.partition(" ")
        if "=" not in first:  # a new challenge: "<scheme> name=value"
            scheme, item = first, rest
        found.setdefault(scheme, {}).update(parse_keqv_list([item.strip()]) if item else {})
    return found


async def _app(harness: HarnessFactory, idp: TestProvider, **options: Any) -> Harness:
    auth = options.pop("auth", {})
    sections = options.pop("sections", {})
    provider = options.pop("provider", None) or jwt_provider(idp, dpop="allowed", **options)
    h = await harness(providers=[provider], auth=auth, **sections)
    await h.add_user("alice")
    return h


def _dpop(token: str, proof: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def _bound(idp: TestProvider, key: DPoPKey) -> str:
    return idp.user_token("alice", scope="openid jira:read", resource=RESOURCE, dpop=key)


async def test_a_dpop_bound_token_with_a_valid_proof_is_accepted(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await _app(harness, idp)
    key = DPoPKey()
    token = _bound(idp, key)
    for _ in range(2):  # the second one from the principal cache, with a new proof
        answer = await h.client.get(ME, headers=_dpop(token, key.proof("GET", URL, token=token)))
        assert answer.status_code == 200, answer.text
        assert answer.json()["name"] == "alice"


def _refusals(key: DPoPKey, token: str) -> dict[str, dict[str, str]]:
    other = DPoPKey()
    return {
        "no proof": {"Authorization": f"DPoP {token}"},
        "another method": _dpop(token, key.proof("POST", URL, token=token)),
        "another URI": _dpop(token, key.proof("GET", BASE_URL + "/rest/api/2/user", token=token)),
        "another key": _dpop(token, other.proof("GET", URL, token=token)),
        "stale iat": _dpop(token, key.proof("GET", URL, token=token, iat=time.time() - 600)),
        "future iat": _dpop(token, key.proof("GET", URL, token=token, iat=time.time() + 60)),
        "wrong ath": _dpop(token, key.proof("GET", URL, token=token, ath=token_hash("other"))),
        "no ath": _dpop(token, key.proof("GET", URL)),
        "wrong typ": _dpop(token, key.proof("GET", URL, token=token, typ="JWT")),
        "not a JWT": _dpop(token, "not-a-jwt"),
    }


@pytest.mark.parametrize("case", list(_refusals(DPoPKey(), "t")))
async def test_a_proof_that_does_not_hold_is_refused_with_invalid_dpop_proof(
    harness: HarnessFactory, idp: TestProvider, case: str
) -> None:
    """RFC 9449 §4.3 and §7.1: each check, on a token that is otherwise good (cached too)."""
    h = await _app(harness, idp)
    key = DPoPKey()
    token = _bound(idp, key)
    good = await h.client.get(ME, headers=_dpop(token, key.proof("GET", URL, token=token)))
    assert good.status_code == 200  # now in the principal cache
    answer = await h.client.get(ME, headers=_refusals(key, token)[case])
    assert answer.status_code == 401, answer.text
    found = challenges(answer.headers["www-authenticate"])
    assert found["DPoP"]["error"] == "invalid_dpop_proof"
    assert found["DPoP"]["algs"] == "ES256 EdDSA PS256 RS256"


async def test_a_replayed_proof_is_refused(harness: HarnessFactory, idp: TestProvider) -> None:
    """RFC 9449 §11.1: a proof's jti is accepted once."""
    h = await _app(harness, idp)
    key = DPoPKey()
    token = _bound(idp, key)
    proof = key.proof("GET", URL, token=token)
    assert (await h.client.get(ME, headers=_dpop(token, proof))).status_code == 200
    again = await h.client.get(ME, headers=_dpop(token, proof))
    assert again.status_code == 401
    assert "already used" in again.json()["errorMessages"][0]


async def test_a_bound_token_sent_as_bearer_is_refused_never_downgraded(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is invalid_token."""
    h = await _app(harness, idp)
    key = DPoPKey()
    token = _bound(idp, key)
    assert (
        await h.client.get(ME, headers=_dpop(token, key.proof("GET", URL, token=token)))
    ).is_success
    for headers in (
        {"Authorization": f"Bearer {token}"},
        {"Authorization": f"Bearer {token}", "DPoP": key.proof("GET", URL, token=token)},
    ):
        answer = await h.client.get(ME, headers=headers)
        assert answer.status_code == 401
        found = challenges(answer.headers["www-authenticate"])
        assert found["Bearer"]["error"] == "invalid_token"
        assert "algs" in found["DPoP"]


async def test_opaque_tokens_are_bound_through_the_introspection_answer(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """RFC 9449 §6.2: the introspection response's cnf.jkt."""
    h = await _app(harness, idp, provider=introspection_provider(idp, dpop="allowed"))
    key = DPoPKey()
    token = idp.user_token("alice", dpop=key)
    ok = await h.client.get(ME, headers=_dpop(token, key.proof("GET", URL, token=token)))
    assert ok.status_code == 200, ok.text
    idp.reset_stats()
    bearer = await h.client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 401
    assert idp.stats().get("/token/introspection", 0) == 0  # refused from the cache entry


@pytest.mark.parametrize(
    ("mode", "scheme", "status"),
    [("off", "DPoP", 401), ("required", "Bearer", 401), ("allowed", "Bearer", 200)],
)
async def test_the_providers_dpop_mode_decides_what_is_accepted(
    harness: HarnessFactory, idp: TestProvider, mode: str, scheme: str, status: int
) -> None:
    h = await _app(harness, idp, provider=jwt_provider(idp, dpop=mode))
    key = DPoPKey()
    if scheme == "DPoP":
        token = _bound(idp, key)
        headers = _dpop(token, key.proof("GET", URL, token=token))
    else:
        token = idp.jwt_token("alice")
        headers = {"Authorization": f"Bearer {token}"}
    answer = await h.client.get(ME, headers=headers)
    assert answer.status_code == status, answer.text
    if mode == "off":
        assert "DPoP" not in challenges(answer.headers["www-authenticate"])


async def test_a_missing_token_is_told_dpop_is_accepted(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """RFC 9449 §7.1: the DPoP challenge names the accepted algorithms."""
    h = await _app(harness, idp)
    answer = await h.client.get(ME)
    found = challenges(answer.headers["www-authenticate"])
    assert set(found) == {"Bearer", "DPoP"}
    assert found["DPoP"]["algs"].split() == ["ES256", "EdDSA", "PS256", "RS256"]


async def test_server_nonces_are_asked_for_and_then_accepted(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """RFC 9449 §9: use_dpop_nonce with a DPoP-Nonce header, then a proof with it passes."""
    h = await _app(harness, idp, auth={"dpop_nonce": True})
    key = DPoPKey()
    token = _bound(idp, key)
    first = await h.client.get(ME, headers=_dpop(token, key.proof("GET", URL, token=token)))
    assert first.status_code == 401
    assert challenges(first.headers["www-authenticate"])["DPoP"]["error"] == "use_dpop_nonce"
    nonce = first.headers["dpop-nonce"]
    forged = await h.client.get(
        ME, headers=_dpop(token, key.proof("GET", URL, token=token, nonce=nonce[:-2] + "xx"))
    )
    assert forged.status_code == 401
    retried = await h.client.get(
        ME, headers=_dpop(token, key.proof("GET", URL, token=token, nonce=nonce))
    )
    assert retried.status_code == 200, retried.text


async def test_behind_a_trusted_proxy_the_proof_names_the_public_uri(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """RFC 9449 §4.3 check 9: htu is the URI the client sent the request to."""
    h = await harness(
        providers=[jwt_provider(idp, dpop="allowed")],
        server={"base_url": None, "trusted_proxies": ["127.0.0.0/8"]},
    )
    await h.add_user("alice")
    key = DPoPKey()
    token = _bound(idp, key)
    public = "https://jira.example.com" + ME
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "jira.example.com"}
    answer = await h.client.get(
        ME, headers={**forwarded, **_dpop(token, key.proof("GET", public, token=token))}
    )
    # httpx's ASGI transport says the peer is 127.0.0.1: a trusted proxy here
    assert answer.status_code == 200, answer.text
    internal = await h.client.get(
        ME, headers={**forwarded, **_dpop(token, key.proof("GET", URL, token=token))}
    )
    assert internal.status_code == 401


@pytest.mark.parametrize("proxies", [[], ["10.0.0.0/8"]])
async def test_forwarded_headers_from_a_peer_that_is_no_trusted_proxy_name_nothing(
    harness: HarnessFactory, idp: TestProvider, proxies: list[str]
) -> None:
    """The peer (127.0.0.1) is not a trusted proxy: htu is the URI it sent the request to,
    whatever ``X-Forwarded-Proto``/``-Host`` it adds."""
    h = await harness(
        providers=[jwt_provider(idp, dpop="allowed")],
        server={"base_url": None, "trusted_proxies": proxies},
    )
    await h.add_user("alice")
    key = DPoPKey()
    token = _bound(idp, key)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "jira.example.com"}
    public = key.proof("GET", "https://jira.example.com" + ME, token=token)
    claimed = await h.client.get(ME, headers={**forwarded, **_dpop(token, public)})
    assert claimed.status_code == 401
    own = await h.client.get(
        ME, headers={**forwarded, **_dpop(token, key.proof("GET", URL, token=token))}
    )
    assert own.status_code == 200, own.text


async def test_forward_auth_checks_the_proof_against_the_original_uri(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await harness(
        providers=[jwt_provider(idp, dpop="allowed")],
        forward_auth={"enabled": True},
        upstream={"shared_secret": "s" * 32},
    )
    key = DPoPKey()
    token = _bound(idp, key)
    target = "/rest/api/2/issue/FIN-1?fields=summary"
    proof = key.proof("PUT", BASE_URL + "/rest/api/2/issue/FIN-1", token=token)
    asked = {"X-Original-Method": "PUT", "X-Original-URI": target, **_dpop(token, proof)}
    answer = await h.client.get("/_jiraguard/auth", headers=asked)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-forwarded-user"] == "alice"
    again = await h.client.get("/_jiraguard/auth", headers=asked)
    assert again.status_code == 401  # the same proof twice


async def test_a_rule_can_require_sender_constrained_tokens_for_writes(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    rule = {
        "name": "writes",
        "methods": ["POST", "PUT", "DELETE"],
        "require_sender_constrained": True,
    }
    h = await _app(harness, idp, sections={"rules": [rule]})
    plain = idp.jwt_token("alice", scope="openid jira:read jira:write")
    bearer = {"Authorization": f"Bearer {plain}"}
    assert (await h.client.get(ME, headers=bearer)).status_code == 200
    write = await h.client.post("/rest/api/2/issue", headers=bearer, json={})
    assert write.status_code == 401
    assert "sender-constrained" in write.json()["errorMessages"][0]
    key = DPoPKey()
    token = _bound(idp, key)
    url = BASE_URL + "/rest/api/2/issue"
    bound = await h.client.post(
        "/rest/api/2/issue", headers=_dpop(token, key.proof("POST", url, token=token)), json={}
    )
    assert bound.status_code not in (401, 403), bound.text  # past authentication


def _verifier() -> DPoPVerifier:
    return DPoPVerifier(["ES256", "RS256"], 300, 5, MemoryReplayCache(100))


async def test_a_known_header_does_not_let_another_key_sign() -> None:
    """The checked JOSE header (and its key) is kept per header text: a proof that copies a
    known client's header but is signed with another key still fails its signature check."""
    verifier = _verifier()
    key, other = DPoPKey(), DPoPKey()
    first = key.proof("GET", URL, token="t")
    assert await verifier.verify([first.encode()], "GET", URL, "t") == jwk_thumbprint(key.jwk)
    forged = other.proof("GET", URL, token="t")  # its signature, the known client's header
    spliced = first.partition(".")[0] + "." + forged.partition(".")[2]
    with pytest.raises(InvalidDPoPProof, match="signature"):
        await verifier.verify([spliced.encode()], "GET", URL, "t")
    # its own header is a new one, checked and kept on its own
    own = await verifier.verify([forged.encode()], "GET", URL, "t")
    assert own == jwk_thumbprint(other.jwk) != jwk_thumbprint(key.jwk)


@pytest.mark.parametrize(
    "uri",
    [URL, "HTTP://Jira.Example.COM:80/a%2fb?q#f", "https://h:443", "ftp://h/", "http://[::1]:x/"],
)
def test_kept_uri_normalisations_are_the_ones_computed_afresh(uri: str) -> None:
    normalised_uri.cache_clear()
    fresh = normalised_uri.__wrapped__(uri)
    assert normalised_uri(uri) == fresh
    assert normalised_uri(uri) == fresh  # from the cache
    assert normalised_uri.cache_info().hits >= 1


async def test_a_proof_for_another_uri_is_refused_once_the_request_uri_is_kept() -> None:
    verifier = _verifier()
    key = DPoPKey()
    await verifier.verify([key.proof("GET", URL, token="t").encode()], "GET", URL, "t")
    elsewhere = key.proof("GET", BASE_URL + "/rest/api/2/user", token="t")
    with pytest.raises(InvalidDPoPProof, match="htu"):
        await verifier.verify([elsewhere.encode()], "GET", URL, "t")
