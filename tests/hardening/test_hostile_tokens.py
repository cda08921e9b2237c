"""Hostile tokens and bodies get 401/400, never a 5xx: deep nesting, huge numbers, wrongly
typed registered claims (RFC 7519 §4.1) and lone surrogates are refused before PyJWT, the
identity mapping or the database see them."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.router import peek_issuer
from jiraguard.auth.validators.jwt import unverified_claims, unverified_header
from tests.conftest import Harness, HarnessFactory, bearer
from tests.support.tokens import ISSUER, claims_for, dumps, hmac_provider, signed, signed_raw

pytestmark = pytest.mark.anyio

DEEP = 1000


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def _hmac(harness: HarnessFactory, **provider: Any) -> Harness:
    h = await harness([hmac_provider(**provider)])
    await h.add_user("alice")
    assert (await _myself(h, signed(claims_for("alice")))) == 200
    return h


async def _myself(h: Harness, token: str) -> int:
    return (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code


@pytest.mark.parametrize("depth", [DEEP, 100_000])
def test_deep_nesting_never_raises_recursion_error(depth: int) -> None:
    for opener in (b"[", b'{"a":'):
        deep = opener * depth
        segment = _b64(deep)
        assert peek_issuer(f"{_b64(b'{}')}.{segment}.sig") is None
        with_issuer = _b64(b'{"iss":"' + ISSUER.encode() + b'","x":' + deep)
        assert peek_issuer(f"x.{with_issuer}.s") is None
        with pytest.raises(InvalidToken):
            unverified_header(f"{segment}.e30.sig")
        with pytest.raises(InvalidToken):
            unverified_claims(f"e30.{segment}.sig")


async def test_deep_nesting_in_a_token_is_401(harness: HarnessFactory) -> None:
    h = await _hmac(harness)
    deep_claims = b'{"iss":"%s","x":%s}' % (ISSUER.encode(), b"[" * DEEP + b"]" * DEEP)
    deep_header = b'{"alg":"HS256","x":' + b"[" * DEEP + b"]" * DEEP + b"}"
    assert await _myself(h, signed_raw(deep_claims)) == 401
    assert await _myself(h, signed_raw(dumps(claims_for("alice")), header=deep_header)) == 401


async def test_huge_numbers_in_a_token_are_401(harness: HarnessFactory) -> None:
    h = await _hmac(harness)
    now = int(time.time())
    for exp in (b"9" * 5000, b"9" * 30, b"1e999", b"-1", b"1e300"):
        payload = dumps(claims_for("alice")).replace(str(now + 300).encode(), exp)
        assert exp in payload
        assert await _myself(h, signed_raw(payload)) == 401, exp


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": str(int(time.time()) + 300)},
        {"exp": True},
        {"nbf": "0"},
        {"iat": [1]},
        {"iss": 1},
        {"sub": ["alice"]},
        {"aud": [1]},
        {"aud": {"jira": True}},
        {"client_id": 7},
        {"azp": None},
        {"jti": {}},
    ],
    ids=repr,
)
async def test_wrongly_typed_registered_claims_are_401(
    harness: HarnessFactory, claims: dict[str, Any]
) -> None:
    """RFC 7519: a string exp is no NumericDate, even though PyJWT would convert it."""
    h = await _hmac(harness)
    response = await h.client.get(
        "/rest/api/2/myself", headers=bearer(signed_raw(dumps(claims_for("alice", **claims))))
    )
    assert response.status_code == 401
    assert "invalid" in response.headers["www-authenticate"]


async def test_lone_surrogate_in_a_signed_username_is_401(harness: HarnessFactory) -> None:
    h = await _hmac(harness)
    for name in ("al\ud800ice", "\udfff"):
        assert await _myself(h, signed(claims_for(name))) == 401


async def test_encoded_surrogates_in_a_token_are_401(harness: HarnessFactory) -> None:
    """Raw bytes ED A0 80 (a surrogate encoded as if it were UTF-8), not a \\u escape:
    json.loads(bytes) decodes with surrogatepass and would let it through."""
    h = await _hmac(harness)
    payload = dumps(claims_for("alice")).replace(b'"alice"', b'"al\xed\xa0\x80ice"')
    assert await _myself(h, signed_raw(payload)) == 401
    client = dumps(claims_for("alice")).replace(b'"iat"', b'"azp":"\xed\xb0\x80","iat"')
    assert await _myself(h, signed_raw(client)) == 401


async def test_lone_surrogate_in_a_pat_name_is_400(harness: HarnessFactory) -> None:
    h = await _hmac(harness)
    headers = {**bearer(signed(claims_for("alice"))), "Content-Type": "application/json"}
    for body in (
        b'{"name": "ci\\ud800"}',
        b'{"name": "\\udc00x"}',
        b'{"name": "ci\xed\xa0\x80"}',
        b'{"name": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"name": "ci", "expirationDuration": ' + b"9" * 5000 + b"}",
    ):
        response = await h.client.post("/rest/pat/latest/tokens", content=body, headers=headers)
        assert response.status_code == 400, body[:40]
        assert response.json()["errorMessages"]
    ok = await h.client.post("/rest/pat/latest/tokens", json={"name": "ci"}, headers=headers)
    assert ok.status_code == 201


async def test_deep_nesting_in_a_jira_body_is_400(harness: HarnessFactory) -> None:
    h = await _hmac(harness)
    headers = {**bearer(signed(claims_for("alice"))), "Content-Type": "application/json"}
    for body in (
        b'{"fields": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"fields": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}",
        b'{"fields": {"summary": ' + b"9" * 5000 + b"}}",
        b'{"fields": {"summary": NaN}}',
    ):
        response = await h.client.post("/rest/api/2/issue", content=body, headers=headers)
        assert response.status_code == 400, body[:40]
        assert "not valid JSON" in response.json()["errorMessages"][0]


async def test_a_deep_admin_login_cookie_is_refused_not_500(harness: HarnessFactory) -> None:
    """The pending-login cookie is the browser's to send: JSON like any other."""
    h = await harness(
        [hmac_provider()], admin={"login_provider": "hmac", "client_id": "jiraguard-admin"}
    )
    for raw in (b"[" * DEEP + b"]" * DEEP, b'{"state": ' + b"9" * 5000 + b"}", b"\xed\xa0\x80"):
        cookie = base64.urlsafe_b64encode(raw).decode()
        response = await h.client.get(
            "/admin/login/callback?state=x&code=y", headers={"Cookie": f"jiraguard_oidc={cookie}"}
        )
        assert response.status_code == 403, raw[:20]


async def test_cache_ttl_zero_does_not_make_every_token_expired(harness: HarnessFactory) -> None:
    h = await harness([hmac_provider()], auth={"cache_ttl": 0})
    await h.add_user("alice")
    assert await _myself(h, signed(claims_for("alice"))) == 200
    assert await _myself(h, signed(claims_for("alice", exp=int(time.time()) - 5))) == 401
