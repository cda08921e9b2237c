"""An issue's watchers, remote links and properties under hostile input: no body, user
name, link id or property key gets a 5xx or takes long; what is accepted reads back."""

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

TEXT = st.one_of(HOSTILE_TEXT, JSON_VALUE, st.just("http://example.com/x"))
ICON = st.dictionaries(st.sampled_from(["url16x16", "title", "link"]), TEXT, max_size=3)
LINK_OBJECT = st.fixed_dictionaries(
    {},
    optional={
        "url": TEXT,
        "title": TEXT,
        "summary": TEXT,
        "icon": st.one_of(ICON, JSON_VALUE),
        "status": st.fixed_dictionaries(
            {}, optional={"resolved": JSON_VALUE, "icon": st.one_of(ICON, JSON_VALUE)}
        ),
    },
)
LINK_BODY = st.fixed_dictionaries(
    {},
    optional={
        "globalId": TEXT,
        "relationship": TEXT,
        "application": st.one_of(
            st.dictionaries(st.sampled_from(["type", "name"]), TEXT, max_size=2), JSON_VALUE
        ),
        "object": st.one_of(LINK_OBJECT, JSON_VALUE),
    },
).map(lambda body: json.dumps(body).encode("utf-8", "surrogatepass"))


async def _app(harness: HarnessFactory) -> App:
    h = await harness([hmac_provider()], audit={"enabled": False})
    await h.add_user("alice", admin=True, groups=["jira-users"])
    headers = bearer(signed(claims_for("alice")))
    await h.client.post("/rest/api/2/project", json={"key": "TEST", "name": "T"}, headers=headers)
    fields = {"project": {"key": "TEST"}, "issuetype": {"name": "Task"}, "summary": "s"}
    created = await h.client.post("/rest/api/2/issue", json={"fields": fields}, headers=headers)
    assert created.status_code == 201, created.text
    return h, headers


_shared = shared_app(_app)


JSON = {"Content-Type": "application/json"}


@fuzz(200)
@given(body=st.one_of(LINK_BODY, json_bytes()))
async def test_remote_link_bodies_never_5xx(harness: HarnessFactory, body: bytes) -> None:
    h, headers = await _shared(harness)
    path = "/rest/api/2/issue/TEST-1/remotelink"
    response = await answered(h, "POST", path, content=body, headers={**headers, **JSON})
    if response.status_code in (200, 201):  # what was accepted reads back as written
        sent = json.loads(body)
        link = (await answered(h, "GET", f"{path}/{response.json()['id']}", headers=headers)).json()
        assert link["object"]["url"] == sent["object"]["url"]
        assert link["object"]["title"] == sent["object"]["title"]
        assert link.get("globalId") == sent.get("globalId")
    else:
        assert response.status_code == 400, response.text[:500]


@fuzz(150)
@given(key=st.one_of(HOSTILE_TEXT, NUMBERISH), body=json_bytes())
async def test_properties_never_5xx(harness: HarnessFactory, key: str, body: bytes) -> None:
    h, headers = await _shared(harness)
    path = "/rest/api/2/issue/TEST-1/properties/" + quote(key, safe="", errors="surrogatepass")
    response = await answered(h, "PUT", path, content=body, headers={**headers, **JSON})
    if response.status_code in (200, 201):
        stored = (await answered(h, "GET", path, headers=headers)).json()
        assert stored["value"] == json.loads(body)
    else:
        assert response.status_code in (400, 404, 405), response.text[:500]
    await answered(h, "DELETE", path, headers=headers)


@fuzz(150)
@given(name=st.one_of(HOSTILE_TEXT, NUMBERISH), body=st.one_of(json_bytes(), HOSTILE_TEXT))
async def test_watcher_names_never_5xx(harness: HarnessFactory, name: str, body: Any) -> None:
    h, headers = await _shared(harness)
    path = "/rest/api/2/issue/TEST-1/watchers"
    content = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    response = await answered(h, "POST", path, content=content, headers={**headers, **JSON})
    assert response.status_code in (204, 400, 404), response.text[:500]
    query = quote(name, safe="", errors="surrogatepass")
    await answered(h, "DELETE", f"{path}?username={query}", headers=headers)
    await answered(h, "GET", f"/rest/api/2/issue/TEST-1/remotelink/{query}", headers=headers)
