"""The authenticator reads a repeated ``Authorization`` header of an accepted token once: the
same credentials, their fingerprint worked out, and nothing kept that must be decided afresh
each time or that was refused."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jiraguard.auth.cache import Rejection
from jiraguard.auth.credentials import BasicCredentials, BearerToken, parse_authorization
from jiraguard.auth.errors import InvalidRequest
from jiraguard.auth.principal import fingerprint
from jiraguard.store.audit import AuditFilter, AuditLog
from tests.conftest import HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio


async def test_a_header_read_again_is_the_same_credentials_with_its_fingerprint(
    harness: HarnessFactory,
) -> None:
    h = await harness()
    authenticator = h.services.path.authenticator
    header = b"Bearer abc.def-ghi_~+/=="
    first = authenticator.read([header])
    assert isinstance(first, BearerToken)
    assert authenticator.read([bytes(header)]) is not first  # not kept: not accepted yet
    authenticator.keep(header, first, plain=True)
    again = authenticator.read([bytes(header)])  # another bytes object, as each request has
    assert isinstance(again, BearerToken)
    assert again is first
    assert (again.token, again.source, again.scheme) == ("abc.def-ghi_~+/==", "header", "Bearer")
    assert again.key == fingerprint("abc.def-ghi_~+/==")
    assert "abc" not in repr(again)
    assert again.key not in repr(again)
    dpop = authenticator.read([b"DPoP abc"])
    assert isinstance(dpop, BearerToken)
    assert dpop.scheme == "DPoP"
    assert dpop.key


async def test_what_is_not_kept_reads_as_before(harness: HarnessFactory) -> None:
    h = await harness(tokens={"enabled": True})
    authenticator = h.services.path.authenticator
    pat = authenticator.read([b"Bearer jgp_" + b"a" * 40])
    assert isinstance(pat, BearerToken)
    assert pat.key == ""
    authenticator.keep(b"Bearer jgp_" + b"a" * 40, pat, plain=True)
    assert authenticator.read([b"Bearer jgp_" + b"a" * 40]) is not pat
    basic = authenticator.read([b"Basic YWxpY2U6c2VjcmV0"])
    assert isinstance(basic, BasicCredentials)
    assert basic.username == "alice"
    assert authenticator.read([]) is None
    assert authenticator.read([b"Negotiate abc"]) is None
    with pytest.raises(InvalidRequest):
        authenticator.read([b"Bearer abc", b"Bearer abc"])  # kept, but two are still two
    with pytest.raises(InvalidRequest):
        authenticator.read([b"Bearer a b"])
    assert authenticator.read([b"Bearer abc"]) == parse_authorization([b"Bearer abc"])._replace(
        key=fingerprint("abc")
    )


async def test_kept_headers_are_dropped_after_the_cache_ttl_and_past_the_bound(
    harness: HarnessFactory,
) -> None:
    h = await harness(auth={"cache_ttl": 60})
    authenticator = h.services.path.authenticator
    now = [1000.0]
    authenticator.clock = lambda: now[0]
    authenticator._read_since = now[0]
    first = authenticator.read([b"Bearer one"])
    assert isinstance(first, BearerToken)
    authenticator.keep(b"Bearer one", first, plain=True)
    assert authenticator.read([b"Bearer one"]) is first
    now[0] += 61  # the next header kept finds the kept ones too old: all are read again
    two = authenticator.read([b"Bearer two"])
    assert isinstance(two, BearerToken)
    authenticator.keep(b"Bearer two", two, plain=True)
    assert authenticator.read([b"Bearer one"]) is not first
    assert authenticator.read([b"Bearer two"]) is two
    for i in range(5000):
        header = b"Bearer t%d" % i
        read = authenticator.read([header])
        assert isinstance(read, BearerToken)
        authenticator.keep(header, read, plain=True)
    assert 0 < len(authenticator._read) <= 4096


async def test_a_cached_token_is_answered_the_same_from_a_kept_header(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    good, bad = idp.jwt_token("alice"), idp.jwt_token("alice")[:-4] + "AAAA"
    for _ in range(3):
        response = await h.client.get("/rest/api/2/myself", headers=bearer(good))
        assert response.status_code == 200
        assert response.json()["name"] == "alice"
        refused = await h.client.get("/rest/api/2/myself", headers=bearer(bad))
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert list(h.services.path.authenticator._read) == [f"Bearer {good}".encode()]
    await h.services.audit.flush()
    where = AuditFilter(allowed=False, kind="auth")
    total, events = await AuditLog(h.services.db).search(where, start_at=0, max_results=5)
    assert total == 1
    assert events[0].count == 3
    assert events[0].fingerprint == fingerprint(bad)[:16]
    assert events[0].last_fingerprint in (None, events[0].fingerprint)
    where = AuditFilter(allowed=True, kind="auth")
    total, events = await AuditLog(h.services.db).search(where, start_at=0, max_results=5)
    assert total == 1
    assert events[0].count == 3
    assert events[0].username == "alice"


async def _accepted(harness: HarnessFactory, idp: TestProvider) -> tuple[Any, str, bytes]:
    """A server that has accepted alice's token once (and not before): it, the token, the
    token's header."""
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    token = idp.jwt_token("alice")
    header = f"Bearer {token}".encode()
    assert h.services.path.authenticator.kept([header]) is None  # nothing accepted yet
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    return h, token, header


async def test_a_kept_plain_header_is_answered_while_its_principal_is_held(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h, token, header = await _accepted(harness, idp)
    authenticator = h.services.path.authenticator
    kept = authenticator.kept([bytes(header)])
    assert kept is not None
    credentials, principal = kept
    assert (credentials.token, credentials.key) == (token, fingerprint(token))
    assert principal.username == "alice"
    assert authenticator.kept([header, header]) is None  # two headers are the full path's
    assert authenticator.kept([b"Bearer " + token.encode()[:-1]]) is None
    # A change to the user after the principal was checked: the full path decides again.
    assert await h.services.users.set_active("alice", False)
    await h.services.announce()  # as a committed change is applied in this process
    assert authenticator.kept([header]) is None
    refused = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert refused.status_code == 401


async def test_a_kept_header_of_a_token_refused_since_is_the_full_paths(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h, token, header = await _accepted(harness, idp)
    authenticator = h.services.path.authenticator
    credentials, _ = authenticator.kept([header]) or (None, None)
    assert credentials is not None
    await authenticator.cache.put(credentials.key, Rejection("revoked", time.time(), None), 60)
    assert authenticator.kept([header]) is None
    refused = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert refused.status_code == 401
    assert "revoked" in refused.headers["www-authenticate"]
