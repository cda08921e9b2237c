"""RFC 6750 credential handling, as a table of header variants through the real app."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import Harness, HarnessFactory, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio

TOKEN = "{token}"


@pytest.fixture
async def app(idp: TestProvider, harness: HarnessFactory) -> Harness:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice", password_hash=None)
    return h


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# (case, headers, expected status, expected challenge error or None)
CASES: list[tuple[str, list[tuple[str, str]], int, str | None]] = [
    ("bearer", [("Authorization", "Bearer {token}")], 200, None),
    (
        "scheme is case-insensitive (RFC 7235 §2.1)",
        [("Authorization", "bearer {token}")],
        200,
        None,
    ),
    ("upper-case scheme", [("Authorization", "BEARER {token}")], 200, None),
    ("lower-case header name", [("authorization", "Bearer {token}")], 200, None),
    ("several spaces", [("Authorization", "Bearer   {token}")], 200, None),
    ("no credentials (§3.1: no error code)", [], 401, ""),
    ("unknown scheme counts as none", [("Authorization", "Negotiate abc")], 401, ""),
    ("empty bearer", [("Authorization", "Bearer")], 400, "invalid_request"),
    ("bearer with spaces only", [("Authorization", "Bearer    ")], 400, "invalid_request"),
    (
        "character outside b64token (§2.1)",
        [("Authorization", "Bearer a,b")],
        400,
        "invalid_request",
    ),
    ("two tokens in one header", [("Authorization", "Bearer a b")], 400, "invalid_request"),
    (
        "two Authorization headers",
        [("Authorization", "Bearer {token}"), ("Authorization", "Bearer {token}")],
        400,
        "invalid_request",
    ),
    ("garbage token", [("Authorization", "Bearer abc.def.ghi")], 401, "invalid_token"),
    ("basic is blocked", [("Authorization", _basic("alice", "pw"))], 401, ""),
    ("malformed basic", [("Authorization", "Basic !!!")], 400, "invalid_request"),
]


@pytest.mark.parametrize(
    ("headers", "status", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_authorization_header_variants(
    app: Harness,
    idp: TestProvider,
    headers: list[tuple[str, str]],
    status: int,
    error: str | None,
) -> None:
    token = idp.jwt_token("alice")
    sent = [(name, value.replace(TOKEN, token)) for name, value in headers]
    response = await app.client.get("/rest/api/2/myself", headers=sent)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    if status == 200:
        return
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}
    assert body["errorMessages"]
    assert token not in response.text
    challenge = response.headers.get("www-authenticate")
    assert challenge is not None
    assert challenge.startswith('Bearer realm="jiraguard"')
    if error:
        assert f'error="{error}"' in challenge
    else:
        assert "error=" not in challenge


async def test_basic_blocked_body_says_so(app: Harness) -> None:
    response = await app.client.get(
        "/rest/api/2/myself", headers={"Authorization": _basic("alice", "pw")}
    )
    assert "Basic authentication is disabled" in response.json()["errorMessages"][0]


async def test_query_token_ignored_unless_enabled(app: Harness, idp: TestProvider) -> None:
    token = idp.jwt_token("alice")
    response = await app.client.get("/rest/api/2/myself", params={"access_token": token})
    assert response.status_code == 401


async def test_query_token_when_enabled(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)], auth={"allow_query_token": True})
    await h.add_user("alice")
    token = idp.jwt_token("alice")
    response = await h.client.get("/rest/api/2/myself", params={"access_token": token})
    assert response.status_code == 200
    both = await h.client.get(
        "/rest/api/2/myself",
        params={"access_token": token},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert both.status_code == 400  # RFC 6750 §2: one method per request
    assert 'error="invalid_request"' in both.headers["www-authenticate"]


async def test_form_token_when_enabled(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)], auth={"allow_form_token": True})
    await h.add_user("alice")
    token = idp.jwt_token("alice")
    response = await h.client.post("/rest/api/2/myself", data={"access_token": token, "other": "x"})
    # Authenticated (the route itself only allows GET, hence 405, not 401).
    assert response.status_code == 405


async def test_basic_allowed_checks_argon2_password(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    from jiraguard.auth.authenticator import hash_password

    h = await harness([jwt_provider(idp)], auth={"block_basic": False})
    await h.add_user("carol", password_hash=hash_password("right horse"))
    good = await h.client.get(
        "/rest/api/2/myself", headers={"Authorization": _basic("carol", "right horse")}
    )
    assert good.status_code == 200
    assert good.json()["name"] == "carol"
    bad = await h.client.get(
        "/rest/api/2/myself", headers={"Authorization": _basic("carol", "wrong")}
    )
    assert bad.status_code == 401


async def test_open_paths_need_nothing(app: Harness) -> None:
    assert (await app.client.get("/healthz")).status_code == 200
