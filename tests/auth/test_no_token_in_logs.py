"""Tokens are secrets: no log line, at any level, carries one.

See docs/architecture.md, "Rules that hold everywhere".
"""

from __future__ import annotations

import logging

import pytest

from tests.conftest import HarnessFactory, bearer, introspection_provider, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio


async def test_no_token_reaches_any_log_line(
    idp: TestProvider, harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = await harness(
        [jwt_provider(idp), introspection_provider(idp)],
        auth={"allow_query_token": True},
        rules=[{"name": "no writes", "methods": ["POST"], "action": "deny"}],
    )
    await h.add_user("alice")
    good, opaque = idp.jwt_token("alice"), idp.user_token("alice")
    forged = good[:-8] + "AAAAAAAA"
    unknown = idp.jwt_token("mallory")
    for token in (good, opaque, forged, unknown, "garbage-token"):
        await h.client.get("/rest/api/2/myself", headers=bearer(token))
        await h.client.post("/rest/api/2/myself", headers=bearer(token))
    await h.client.get("/rest/api/2/myself", params={"access_token": good})
    assert any(r.name == "jiraguard.audit" for r in caplog.records)  # decisions were logged
    # The test's own HTTP client logs the URLs it requests (one carries ?access_token=);
    # everything else, jiraguard's calls to the provider included, must be clean.
    ours = [r for r in caplog.records if "http://jira.test" not in r.getMessage()]
    assert ours
    text = "\n".join(r.getMessage() for r in ours)
    for token in (good, opaque, forged, unknown, "garbage-token"):
        assert token not in text
