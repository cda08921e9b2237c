"""``/rest/auth/1/session``: read by ``jira.session()`` and ``JIRA(..., validate=True)``, on
each database, behind the same authentication; never a password login."""

from __future__ import annotations

import base64

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


async def test_session_names_the_caller(api: JiraApi) -> None:
    for path in ("/rest/auth/1/session", "/rest/auth/latest/session/"):
        response = await api.harness.client.get(path, headers=api.tokens("carol"))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json;charset=UTF-8"
        body = response.json()
        assert body["name"] == "carol"
        assert body["self"].endswith("/rest/api/latest/user?username=carol")
        assert body["loginInfo"] == {}


async def test_session_needs_credentials(api: JiraApi) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = await api.harness.client.request(method, "/rest/auth/1/session")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer realm=")
    bad = await api.harness.client.get(
        "/rest/auth/1/session", headers={"Authorization": "Bearer not-a-token"}
    )
    assert bad.status_code == 401


async def test_logout_ends_nothing(api: JiraApi) -> None:
    gone = await api.harness.client.delete("/rest/auth/latest/session", headers=api.tokens("bob"))
    assert gone.status_code == 204
    assert gone.content == b""
    again = await api.harness.client.get("/rest/auth/1/session", headers=api.tokens("bob"))
    assert again.status_code == 200


async def test_password_login_is_refused_like_basic(api: JiraApi) -> None:
    """A name and password posted to the session resource are Basic credentials by another
    road: refused with the Bearer challenge, with or without a token, and no cookie."""
    login = {"username": "alice", "password": "secret"}
    anonymous = await api.harness.client.post("/rest/auth/1/session", json=login)
    assert anonymous.status_code == 401
    with_token = await api.harness.client.post(
        "/rest/auth/1/session", json=login, headers=api.tokens("alice")
    )
    basic = await api.harness.client.get(
        "/rest/auth/1/session",
        headers={"Authorization": "Basic " + base64.b64encode(b"alice:secret").decode()},
    )
    for refused in (with_token, basic):
        assert refused.status_code == 401
        assert "set-cookie" not in refused.headers
        assert refused.headers["www-authenticate"].startswith("Bearer realm=")
        assert refused.json()["errorMessages"] == basic.json()["errorMessages"]
    assert "Basic authentication is disabled" in with_token.json()["errorMessages"][0]
