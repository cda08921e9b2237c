"""Personal access tokens over HTTP: Jira Data Center's ``/rest/pat/latest/tokens`` API and
the request path that accepts them (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from jiraguard.store.models import PersonalToken
from tests.conftest import (
    Harness,
    HarnessFactory,
    bearer,
    introspection_provider,
    jwt_provider,
    userinfo_provider,
)
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio

TOKENS = "/rest/pat/latest/tokens"
JIRA_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")


async def _app(
    harness: HarnessFactory, idp: TestProvider, url: str | None = None, **sections: Any
) -> Harness:
    h = await harness([jwt_provider(idp)], url=url, **sections)
    await h.add_user("alice", groups=["jira-users"])
    await h.add_user("bob")
    return h


async def _create(h: Harness, idp: TestProvider, user: str = "alice", **body: Any) -> Any:
    body.setdefault("name", "ci")
    return await h.client.post(TOKENS, json=body, headers=bearer(idp.jwt_token(user)))


async def test_lifecycle_create_use_list_revoke(
    idp: TestProvider, harness: HarnessFactory, database_url: str
) -> None:
    h = await _app(harness, idp, database_url)
    created = await _create(h, idp, expirationDuration=30)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert set(body) == {"id", "name", "createdAt", "expiringAt", "rawToken"}
    assert body["name"] == "ci"
    assert JIRA_DATE.match(body["createdAt"])
    assert JIRA_DATE.match(body["expiringAt"])
    raw = body["rawToken"]
    assert raw.startswith("jgp_")
    assert len(raw) >= 4 + 43

    me = await h.client.get("/rest/api/2/myself", headers=bearer(raw))
    assert me.status_code == 200
    assert me.json()["name"] == "alice"
    assert me.json()["groups"]["items"] == [{"name": "jira-users"}]

    listed = await h.client.get(TOKENS, headers=bearer(raw))
    assert listed.status_code == 200
    [entry] = listed.json()
    assert entry["id"] == body["id"]
    assert "rawToken" not in entry
    assert raw not in listed.text

    revoked = await h.client.delete(
        f"{TOKENS}/{body['id']}", headers=bearer(idp.jwt_token("alice"))
    )
    assert revoked.status_code == 204
    after = await h.client.get("/rest/api/2/myself", headers=bearer(raw))
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["www-authenticate"]
    assert "revoked" in after.json()["errorMessages"][0]
    listed = await h.client.get(TOKENS, headers=bearer(idp.jwt_token("alice")))
    assert listed.json() == []


async def test_the_token_is_stored_as_its_sha256_only(
    idp: TestProvider, harness: HarnessFactory, database_url: str
) -> None:
    h = await _app(harness, idp, database_url)
    raw = (await _create(h, idp)).json()["rawToken"]
    async with h.services.db.session() as session:
        [stored] = (await session.scalars(select(PersonalToken))).all()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in repr(stored.__dict__)


async def test_expired_token_is_refused(
    idp: TestProvider, harness: HarnessFactory, database_url: str
) -> None:
    h = await _app(harness, idp, database_url)
    body = (await _create(h, idp)).json()
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(body["rawToken"]))).is_success
    async with h.services.db.transaction() as session:
        await session.execute(
            update(PersonalToken)
            .where(PersonalToken.id == body["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await h.client.get("/rest/api/2/myself", headers=bearer(body["rawToken"]))
    assert response.status_code == 401
    assert "expired" in response.json()["errorMessages"][0]


async def test_unknown_token_with_the_prefix_is_401(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await _app(harness, idp)
    response = await h.client.get("/rest/api/2/myself", headers=bearer("jgp_" + "A" * 43))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_disabled_owner_is_refused_at_once(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await _app(harness, idp)
    raw = (await _create(h, idp)).json()["rawToken"]
    await h.services.users.set_active("alice", False)
    response = await h.client.get("/rest/api/2/myself", headers=bearer(raw))
    assert response.status_code == 401
    assert "disabled" in response.json()["errorMessages"][0]


async def test_max_per_user(idp: TestProvider, harness: HarnessFactory, database_url: str) -> None:
    h = await _app(harness, idp, database_url, tokens={"max_per_user": 2})
    assert (await _create(h, idp, name="one")).status_code == 201
    assert (await _create(h, idp, name="two")).status_code == 201
    third = await _create(h, idp, name="three")
    assert third.status_code == 400
    assert "at most 2" in third.json()["errorMessages"][0]
    assert (await _create(h, idp, user="bob")).status_code == 201  # a limit per user
    listed = await h.client.get(TOKENS, headers=bearer(idp.jwt_token("alice")))
    assert [t["name"] for t in listed.json()] == ["one", "two"]


async def test_max_per_user_holds_under_concurrent_creates(
    idp: TestProvider, harness: HarnessFactory, database_url: str
) -> None:
    h = await _app(harness, idp, database_url, tokens={"max_per_user": 2})
    token = idp.jwt_token("alice")
    responses = await asyncio.gather(
        *(h.client.post(TOKENS, json={"name": f"t{n}"}, headers=bearer(token)) for n in range(6))
    )
    assert sorted(r.status_code for r in responses) == [201, 201, 400, 400, 400, 400]
    assert len(await h.services.tokens.list("alice")) == 2


async def test_lifetime_limits(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await _app(harness, idp, tokens={"max_lifetime_days": 30, "default_lifetime_days": 7})
    too_long = await _create(h, idp, expirationDuration=31)
    assert too_long.status_code == 400
    assert too_long.headers["content-type"] == "application/json;charset=UTF-8"
    assert "30 days" in too_long.json()["errorMessages"][0]
    assert "max_lifetime_days" in too_long.json()["errorMessages"][0]
    default = (await _create(h, idp)).json()
    created = datetime.strptime(default["createdAt"], "%Y-%m-%dT%H:%M:%S.%f%z")
    expiring = datetime.strptime(default["expiringAt"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert expiring - created == timedelta(days=7)


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": 5}, {"name": "x", "expirationDuration": "10"},
     {"name": "x", "expirationDuration": 0}, {"name": "x", "expirationDuration": True}],
)  # fmt: skip
async def test_bad_create_requests_are_400(
    idp: TestProvider, harness: HarnessFactory, body: dict[str, Any]
) -> None:
    h = await _app(harness, idp)
    response = await h.client.post(TOKENS, json=body, headers=bearer(idp.jwt_token("alice")))
    assert response.status_code == 400
    assert response.json()["errorMessages"]


async def test_body_that_is_not_an_object_is_400(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await _app(harness, idp)
    headers = {**bearer(idp.jwt_token("alice")), "Content-Type": "application/json"}
    for content in (b"[1]", b"{nope", b"\xff"):
        response = await h.client.post(TOKENS, content=content, headers=headers)
        assert response.status_code == 400


async def test_a_pat_cannot_create_tokens(idp: TestProvider, harness: HarnessFactory) -> None:
    """A leaked token must not be able to mint successors that outlive its revocation."""
    h = await _app(harness, idp)
    raw = (await _create(h, idp)).json()["rawToken"]
    response = await h.client.post(TOKENS, json={"name": "child"}, headers=bearer(raw))
    assert response.status_code == 403


async def test_others_tokens_cannot_be_revoked_but_admins_can(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await _app(harness, idp)
    await h.add_user("root", admin=True)
    token_id = (await _create(h, idp)).json()["id"]
    by_bob = await h.client.delete(f"{TOKENS}/{token_id}", headers=bearer(idp.jwt_token("bob")))
    assert by_bob.status_code == 404
    for bad in ("abc", "99999999999999999999", "0"):
        missing = await h.client.delete(f"{TOKENS}/{bad}", headers=bearer(idp.jwt_token("bob")))
        assert missing.status_code == 404
    by_root = await h.client.delete(f"{TOKENS}/{token_id}", headers=bearer(idp.jwt_token("root")))
    assert by_root.status_code == 204
    again = await h.client.delete(f"{TOKENS}/{token_id}", headers=bearer(idp.jwt_token("root")))
    assert again.status_code == 404


async def test_disabled_tokens_are_refused_and_the_api_is_403(
    idp: TestProvider, harness: HarnessFactory, sqlite_url: str
) -> None:
    enabled = await _app(harness, idp)
    raw = (await _create(enabled, idp)).json()["rawToken"]
    idp.reset_stats()
    disabled = await harness([introspection_provider(idp)], tokens={"enabled": False})
    response = await disabled.client.get("/rest/api/2/myself", headers=bearer(raw))
    assert response.status_code == 401
    assert "Personal access tokens are disabled" in response.headers["www-authenticate"]
    assert idp.stats().get("/token/introspection") is None  # still never shown to a provider
    jwt_app = await harness([jwt_provider(idp)], tokens={"enabled": False})
    for call in (
        jwt_app.client.get(TOKENS, headers=bearer(idp.jwt_token("alice"))),
        jwt_app.client.post(TOKENS, json={"name": "x"}, headers=bearer(idp.jwt_token("alice"))),
        jwt_app.client.delete(f"{TOKENS}/1", headers=bearer(idp.jwt_token("alice"))),
    ):
        assert (await call).status_code == 403


async def test_pat_is_never_sent_to_a_provider(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp), introspection_provider(idp), userinfo_provider(idp)])
    await h.add_user("alice")
    raw = (await _create(h, idp)).json()["rawToken"]
    idp.reset_stats()
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(raw))).status_code == 200
    bad = raw[:-2] + ("AA" if not raw.endswith("AA") else "BB")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(bad))).status_code == 401
    stats = idp.stats()
    assert stats.get("/token/introspection") is None
    assert stats.get("/me") is None


async def test_last_accessed_at_is_written_once_per_resolution(
    idp: TestProvider, harness: HarnessFactory, database_url: str
) -> None:
    h = await _app(harness, idp, database_url, tokens={"last_used_resolution": 3600})
    body = (await _create(h, idp)).json()
    for _ in range(3):
        assert (
            await h.client.get("/rest/api/2/myself", headers=bearer(body["rawToken"]))
        ).is_success
    await h.services.pats.wait_idle()
    assert h.services.pats.writes == 1
    [listed] = (await h.client.get(TOKENS, headers=bearer(idp.jwt_token("alice")))).json()
    assert JIRA_DATE.match(listed["lastAccessedAt"])
    async with h.services.db.session() as session:
        first = await session.scalar(select(PersonalToken.last_accessed_at))
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(body["rawToken"]))).is_success
    await h.services.pats.wait_idle()
    async with h.services.db.session() as session:
        assert await session.scalar(select(PersonalToken.last_accessed_at)) == first


async def test_last_accessed_at_follows_use_past_the_resolution(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await _app(harness, idp, tokens={"last_used_resolution": 0})
    raw = (await _create(h, idp)).json()["rawToken"]
    for _ in range(2):
        assert (await h.client.get("/rest/api/2/myself", headers=bearer(raw))).is_success
    await h.services.pats.wait_idle()
    assert h.services.pats.writes == 2
