"""The request log in gateway mode: the forwarded path, since every route is the proxy's."""

from __future__ import annotations

import pytest

from tests.conftest import HarnessFactory, bearer
from tests.gateway.conftest import gateway
from tests.support.idp import TestProvider
from tests.support.logs import capture_logs

pytestmark = pytest.mark.anyio


async def test_a_forwarded_request_is_logged_by_its_path(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    token = idp.jwt_token("alice")
    with capture_logs() as captured:
        response = await h.client.get(
            "/rest/api/2/issue/PROJ-7", params={"fields": "summary"}, headers=bearer(token)
        )
        assert response.status_code == 200
    (line,) = captured.requests()
    assert line["route"] == "/rest/api/2/issue/PROJ-7"  # not the catch-all "/{path}"
    assert (line["user"], line["decision"], line["status"]) == ("alice", "allowed", 200)
    assert "summary" not in captured.text  # the query string stays out
    assert token not in captured.text
