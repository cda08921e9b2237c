"""Custom fields under hostile input: no ``POST /field`` body, no value of a custom field on
issue edit and no JQL clause on one gets a 5xx or takes long; an accepted value reads back."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiraguard.jira.custom_fields import TYPES
from tests.conftest import Harness, HarnessFactory, bearer
from tests.fuzz.support import (
    HOSTILE_TEXT,
    JSON_VALUE,
    NUMBERISH,
    SharedApp,
    answered,
    fuzz,
    json_bytes,
)
from tests.support.tokens import claims_for, hmac_provider, signed

pytestmark = [pytest.mark.anyio, pytest.mark.fuzz]

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
KINDS = {key: kind.searchers[0] for key, kind in TYPES.items() if key != "textarea"}
FIELD_IDS = [f"customfield_{10000 + n}" for n in range(len(KINDS))]
CLAUSE_NAMES = [f"cf[{10000 + n}]" for n in range(len(KINDS))] + [f'"F {k}"' for k in KINDS]

TYPEISH = st.one_of(
    st.sampled_from([PLUGIN + k for k in (*KINDS, "textarea", "cascadingselect")]),
    HOSTILE_TEXT,
    HOSTILE_TEXT.map(lambda t: PLUGIN + t),
)
FIELD_BODY = st.dictionaries(
    st.sampled_from(["name", "description", "type", "searcherKey", "allowedValues"]),
    st.one_of(JSON_VALUE, HOSTILE_TEXT, TYPEISH, st.lists(HOSTILE_TEXT, max_size=4)),
    max_size=5,
).map(lambda body: json.dumps(body).encode("utf-8", "surrogatepass"))
VALUE = st.one_of(
    JSON_VALUE,
    HOSTILE_TEXT,
    NUMBERISH,
    st.dictionaries(st.sampled_from(["id", "value", "name"]), st.one_of(JSON_VALUE, NUMBERISH)),
    st.sampled_from(
        [
            "2024-02-29",
            "2024-02-29T10:30:00.000+0200",
            "9999-12-31T23:59-1400",
            "0001-01-01T00:00+1400",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
)
ISSUE_BODY = st.builds(
    lambda field, how, value: json.dumps(
        {"fields": {field: value}} if how == "fields" else {"update": {field: [{how: value}]}}
    ).encode("utf-8", "surrogatepass"),
    st.sampled_from(FIELD_IDS),
    st.sampled_from(["fields", "set", "add", "remove", "edit"]),
    st.one_of(VALUE, st.lists(VALUE, max_size=3)),
)
JQL = st.builds(
    lambda name, op, value, order: f"{name} {op} {value}" + (f" ORDER BY {name}" if order else ""),
    st.sampled_from(CLAUSE_NAMES),
    st.sampled_from(["=", "!=", "~", "!~", ">", "<=", "in", "not in", "is", "is not"]),
    st.one_of(
        NUMBERISH,
        HOSTILE_TEXT.map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
        st.sampled_from(["EMPTY", "(Red, EMPTY)", "currentUser()", "-1d", "now()", "alice"]),
    ),
    st.booleans(),
)


async def _app(harness: HarnessFactory) -> tuple[Harness, dict[str, str]]:
    h = await harness([hmac_provider()], audit={"enabled": False})
    await h.add_user("alice", admin=True, groups=["jira-users"])
    headers = bearer(signed(claims_for("alice")))
    calls: list[tuple[str, dict[str, Any]]] = [("/project", {"key": "TEST", "name": "Test"})]
    for kind, searcher in KINDS.items():
        body: dict[str, Any] = {
            "name": f"F {kind}",
            "type": PLUGIN + kind,
            "searcherKey": PLUGIN + searcher,
        }
        if "select" in kind:
            body["allowedValues"] = ["Red", "Green"]
        calls.append(("/field", body))
    issue = {"project": {"key": "TEST"}, "issuetype": {"name": "Task"}, "summary": "s"}
    calls.append(("/issue", {"fields": issue}))
    for path, document in calls:
        response = await h.client.post(f"/rest/api/2{path}", json=document, headers=headers)
        assert response.status_code == 201, response.text
    return h, headers


_shared = SharedApp(_app)


async def _call(h: Harness, method: str, path: str, **kw: Any) -> Any:
    return await answered(h.client, method, path, **kw)


async def _send(h: Harness, headers: dict[str, str], method: str, path: str, body: bytes) -> Any:
    """``body`` (JSON bytes, maybe not valid) sent to the API with alice's ``headers``."""
    sent = {**headers, "Content-Type": "application/json"}
    return await _call(h, method, f"/rest/api/2{path}", content=body, headers=sent)


@fuzz(150)
@given(body=st.one_of(FIELD_BODY, json_bytes()))
async def test_field_bodies_never_5xx(harness: HarnessFactory, body: bytes) -> None:
    h, headers = await _shared(harness)
    response = await _send(h, headers, "POST", "/field", body)
    if response.status_code == 201:
        listed = await _call(h, "GET", "/rest/api/2/field", headers=headers)
        assert response.json() in listed.json()
    else:
        assert response.status_code == 400, response.text[:500]


@fuzz(250)
@given(body=ISSUE_BODY)
async def test_custom_values_never_5xx(harness: HarnessFactory, body: bytes) -> None:
    h, headers = await _shared(harness)
    response = await _send(h, headers, "PUT", "/issue/TEST-1", body)
    assert response.status_code in (204, 400), response.text[:500]
    shown = (await _call(h, "GET", "/rest/api/2/issue/TEST-1", headers=headers)).json()
    sent = json.loads(body).get("fields", {})
    if response.status_code == 204 and sent:  # an accepted text reads back as written
        ((field, value),) = sent.items()
        if isinstance(value, str) and field == FIELD_IDS[0]:
            assert shown["fields"][field] == (value or None)


@fuzz(250)
@given(query=JQL)
async def test_custom_jql_never_5xx(harness: HarnessFactory, query: str) -> None:
    h, headers = await _shared(harness)
    path = "/rest/api/2/search?jql=" + quote(query, safe="", errors="surrogatepass")
    response = await _call(h, "GET", path, headers=headers)
    assert response.status_code in (200, 400), response.text[:500]
