"""User, group and property writes and the user and permission searches under hostile
input: no body or parameter gets a 5xx or takes long; what is accepted reads back."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Harness, HarnessFactory, bearer
from tests.fuzz.support import (
    HOSTILE_TEXT,
    JSON_VALUE,
    NUMBERISH,
    PerTest,
    checked_request,
    fuzz,
    json_bytes,
)
from tests.support.tokens import claims_for, hmac_provider, signed

pytestmark = [pytest.mark.anyio, pytest.mark.fuzz]

MEMBERS = ["name", "emailAddress", "displayName", "password", "active", "id", "value"]
BODY = st.dictionaries(
    st.sampled_from(MEMBERS),
    st.one_of(JSON_VALUE, HOSTILE_TEXT, st.just("a@b.c"), st.just("alice")),
    max_size=5,
).map(lambda body: json.dumps(body).encode("utf-8", "surrogatepass"))
TEXT = st.one_of(HOSTILE_TEXT, NUMBERISH, st.sampled_from(["TEST", "TEST-1", "alice", "."]))
WRITES = [
    ("POST", "/rest/api/2/user"),
    ("PUT", "/rest/api/2/user?username=carol"),
    ("POST", "/rest/api/2/group"),
    ("POST", "/rest/api/2/group/user?groupname=jira-users"),
    ("PUT", "/rest/api/2/application-properties/jira.title"),
    ("POST", "/rest/api/2/project/TEST/role/10000"),
]
SEARCHES = [
    ("/user/assignable/search", ["project", "issueKey", "username", "startAt", "maxResults"]),
    ("/user/assignable/multiProjectSearch", ["projectKeys", "username", "maxResults"]),
    ("/user/viewissue/search", ["issueKey", "projectKey", "username", "startAt"]),
    ("/mypermissions", ["projectKey", "projectId", "issueKey", "issueId", "permissions"]),
    ("/application-properties", ["key", "keyFilter"]),
    ("/groups/picker", ["query", "exclude", "maxResults"]),
    ("/group/member", ["groupname", "startAt"]),
    ("/status/" + "{}", []),
    ("/statuscategory/" + "{}", []),
    ("/project/{}/role", []),
    ("/project/{}/statuses", []),
]


async def _app(harness: HarnessFactory) -> tuple[Harness, dict[str, str]]:
    h = await harness([hmac_provider()], audit={"enabled": False})
    await h.add_user("alice", admin=True, groups=["jira-users"])
    await h.add_user("carol", groups=["jira-users"])
    headers = bearer(signed(claims_for("alice")))
    for path, body in (
        ("/project", {"key": "TEST", "name": "Test"}),
        (
            "/issue",
            {"fields": {"project": {"key": "TEST"}, "issuetype": {"name": "Task"}, "summary": "s"}},
        ),
    ):
        response = await h.client.post(f"/rest/api/2{path}", json=body, headers=headers)
        assert response.status_code == 201, response.text
    return h, headers


_shared = PerTest(_app)


async def _call(h: Harness, method: str, path: str, **kw: Any) -> Any:
    return await checked_request(h.client, method, path, **kw)


@fuzz(200)
@given(target=st.sampled_from(WRITES), body=st.one_of(BODY, json_bytes()))
async def test_people_writes_never_5xx(
    harness: HarnessFactory, target: tuple[str, str], body: bytes
) -> None:
    h, headers = await _shared(harness)
    method, path = target
    response = await _call(
        h, method, path, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    if response.status_code in (200, 201) and path.endswith("/user"):
        made = response.json()
        again = await _call(
            h, "GET", f"/rest/api/2/user?username={quote(made['name'])}", headers=headers
        )
        assert again.json() == made
    else:
        assert response.status_code in (200, 201, 400, 404), response.text[:500]


@fuzz(200)
@given(
    target=st.sampled_from(SEARCHES),
    values=st.lists(TEXT, min_size=1, max_size=5),
)
async def test_people_searches_never_5xx(
    harness: HarnessFactory, target: tuple[str, list[str]], values: list[str]
) -> None:
    h, headers = await _shared(harness)
    path, names = target
    if "{}" in path:
        path = path.format(quote(values[0], safe="") or "x")
    query = "&".join(f"{n}={quote(v, safe='')}" for n, v in zip(names, values, strict=False))
    response = await _call(h, "GET", f"/rest/api/2{path}?{query}", headers=headers)
    assert response.status_code in (200, 400, 404), response.text[:500]
