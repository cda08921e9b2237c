"""Versions and components under hostile input: no body sent to ``/version`` or
``/component``, no value of an issue's ``fixVersions``/``versions``/``components`` and no
``move…To`` parameter gets a 5xx or takes long; what is accepted reads back."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import HarnessFactory, bearer
from tests.fuzz.apps import App, answered, shared_app
from tests.fuzz.support import HOSTILE_TEXT, JSON_VALUE, NUMBERISH, fuzz, json_bytes
from tests.support.tokens import claims_for, hmac_provider, signed

pytestmark = [pytest.mark.anyio, pytest.mark.fuzz]

MEMBERS = [
    "name", "description", "project", "projectId", "releaseDate", "startDate",
    "userReleaseDate", "userStartDate", "released", "archived", "leadUserName", "lead",
    "assigneeType", "isAssigneeTypeValid",
]  # fmt: skip
DATEISH = st.one_of(
    st.dates().map(str),
    st.dates().map(lambda d: f"{d.day}/{d:%b}/{d:%y}"),
    st.text("0123456789/-TJanFebDec: ", max_size=30),
)
ITEM_BODY = st.dictionaries(
    st.sampled_from(MEMBERS),
    st.one_of(JSON_VALUE, HOSTILE_TEXT, DATEISH, st.just("TEST")),
    max_size=6,
).map(lambda body: json.dumps(body).encode("utf-8", "surrogatepass"))
REFERENCE = st.one_of(
    JSON_VALUE,
    st.dictionaries(st.sampled_from(["id", "name"]), st.one_of(JSON_VALUE, NUMBERISH), max_size=2),
)
ISSUE_BODY = st.builds(
    lambda field, how, value: json.dumps(
        {"fields": {field: value}} if how == "fields" else {"update": {field: [{how: value}]}}
    ).encode("utf-8", "surrogatepass"),
    st.sampled_from(["fixVersions", "versions", "components"]),
    st.sampled_from(["fields", "set", "add", "remove", "edit"]),
    st.one_of(REFERENCE, st.lists(REFERENCE, max_size=3)),
)


async def _app(harness: HarnessFactory) -> App:
    h = await harness([hmac_provider()], audit={"enabled": False})
    await h.add_user("alice", admin=True, groups=["jira-users"])
    headers = bearer(signed(claims_for("alice")))
    calls: list[tuple[str, dict[str, Any]]] = [
        ("/project", {"key": "TEST", "name": "Test"}),
        ("/version", {"project": "TEST", "name": "1.0"}),
        ("/component", {"project": "TEST", "name": "UI"}),
        (
            "/issue",
            {
                "fields": {
                    "project": {"key": "TEST"},
                    "issuetype": {"name": "Task"},
                    "summary": "s",
                }
            },
        ),
    ]
    for path, body in calls:
        response = await h.client.post(f"/rest/api/2{path}", json=body, headers=headers)
        assert response.status_code == 201, response.text
    return h, headers


_shared = shared_app(_app)


TARGETS = [
    ("POST", "/rest/api/2/version"),
    ("PUT", "/rest/api/2/version/1"),
    ("POST", "/rest/api/2/component"),
    ("PUT", "/rest/api/2/component/1"),
]


@fuzz(200)
@given(target=st.sampled_from(TARGETS), body=st.one_of(ITEM_BODY, json_bytes()))
async def test_item_bodies_never_5xx(
    harness: HarnessFactory, target: tuple[str, str], body: bytes
) -> None:
    h, headers = await _shared(harness)
    method, path = target
    response = await answered(
        h, method, path, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    if response.status_code in (200, 201):  # what was accepted reads back as written
        written = response.json()
        kind = path.split("/")[4]
        again = await answered(h, "GET", f"/rest/api/2/{kind}/{written['id']}", headers=headers)
        assert again.json() == written
    else:
        assert response.status_code in (400, 404), response.text[:500]


@fuzz(200)
@given(body=ISSUE_BODY)
async def test_issue_item_values_never_5xx(harness: HarnessFactory, body: bytes) -> None:
    h, headers = await _shared(harness)
    response = await answered(
        h,
        "PUT",
        "/rest/api/2/issue/TEST-1",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (204, 400), response.text[:500]
    shown = await answered(h, "GET", "/rest/api/2/issue/TEST-1", headers=headers)
    assert shown.status_code == 200


@fuzz(150)
@given(
    kind=st.sampled_from(["version", "component"]),
    ident=NUMBERISH,
    move=st.one_of(NUMBERISH, HOSTILE_TEXT),
)
async def test_ids_and_move_targets_never_5xx(
    harness: HarnessFactory, kind: str, ident: str, move: str
) -> None:
    h, headers = await _shared(harness)
    target = quote(move, safe="", errors="surrogatepass")
    parameter = "moveIssuesTo" if kind == "component" else "moveFixIssuesTo"
    path = f"/rest/api/2/{kind}/{quote(ident, safe='')}"
    await answered(h, "GET", path, headers=headers)
    if ident.strip() not in ("1", "01"):  # keep the items the other examples use
        await answered(h, "DELETE", f"{path}?{parameter}={target}", headers=headers)
