"""While an ``issuer_discovery`` document cannot be read, tokens of an issuer not known yet
are answered 503 without asking again until the retry: each request gets its own error,
never the first one raised again (which would grow a traceback of every earlier request's
frames, and carry the challenge another request set on it)."""

from __future__ import annotations

import json

import pytest

from jiraguard.auth.errors import ProviderUnavailable
from tests.conftest import HarnessFactory, bearer
from tests.support.idp import free_port
from tests.support.tokens import claims_for, hmac_provider, signed_raw

pytestmark = pytest.mark.anyio


async def _outage(router: object, token: str) -> ProviderUnavailable:
    try:
        await router.validate(token)  # type: ignore[attr-defined]
    except ProviderUnavailable as exc:
        return exc
    raise AssertionError("validated while the discovery document cannot be read")


def _depth(error: BaseException) -> int:
    tb, depth = error.__traceback__, 0
    while tb is not None:
        tb, depth = tb.tb_next, depth + 1
    return depth


async def test_each_request_gets_its_own_outage(harness: HarnessFactory) -> None:
    unreachable = f"https://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    h = await harness([hmac_provider(issuer_discovery=[unreachable])])
    router = h.services.path.authenticator.router
    claims = {**claims_for("alice"), "iss": "https://tenant.example"}
    token = signed_raw(json.dumps(claims).encode())
    first = await _outage(router, token)
    later = [await _outage(router, token) for _ in range(20)]
    assert first.provider == "hmac"
    assert first.url == unreachable
    assert all(e.provider == first.provider and e.url == first.url for e in later)
    assert all(e.description == first.description for e in later)
    assert len({id(e) for e in [first, *later]}) == 21
    assert {_depth(e) for e in later} == {_depth(later[0])}  # nothing accumulates
    first.scheme = "DPoP"  # a request's own answer, set by the middleware
    assert (await _outage(router, token)).scheme == "Bearer"
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 503
    assert "hmac" in response.json()["errorMessages"][0]
