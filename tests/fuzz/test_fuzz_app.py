"""Properties of the whole app, driven over ASGI like every other test: no hostile body,
query, JQL or Authorization header gets a 5xx or takes long, and the audit writer stores
every record it is given, whatever text the records carry."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiraguard.auth.audit import Decision
from jiraguard.auth.audit_sink import StoreAuditSink
from jiraguard.settings import AuditSettings
from tests.conftest import Harness, HarnessFactory, bearer
from tests.fuzz.jql import jql, long_chain
from tests.fuzz.support import (
    HOSTILE_TEXT,
    JSON_VALUE,
    NUMBERISH,
    bounded,
    fuzz,
    json_bytes,
)
from tests.support.tokens import claims_for, hmac_provider, signed, signed_raw

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.fuzz,
    # Hypothesis warns when it prints a large example (a batch of 2 KiB paths); the suite's
    # filterwarnings = error would turn that note into a failure of the property.
    pytest.mark.filterwarnings(
        "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
    ),
]


async def _app(harness: HarnessFactory, url: str | None = None) -> tuple[Harness, dict[str, str]]:
    h = await harness([hmac_provider()], url=url, audit={"enabled": False})
    await h.add_user("alice", admin=True, groups=["jira-users"])
    # Shared by every example of a test: a long run (JIRAGUARD_FUZZ_EXAMPLES) outlasts the
    # usual five minutes, after which every example would get the expired token's 401.
    headers = bearer(signed(claims_for("alice", exp=int(time.time()) + 86400)))
    await h.client.post(
        "/rest/api/2/project", json={"key": "TEST", "name": "Test"}, headers=headers
    )
    created = await h.client.post(
        "/rest/api/2/issue",
        json={
            "fields": {"project": {"key": "TEST"}, "issuetype": {"name": "Task"}, "summary": "s"}
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return h, headers


async def _call(h: Harness, method: str, path: str, **kw: Any) -> int:
    with bounded((method, path[:200])):
        response = await h.client.request(method, path, **kw)
    assert response.status_code < 500, (method, path[:200], response.text[:500])
    return response.status_code


BODY_TARGETS = [
    ("POST", "/rest/api/2/issue"),
    ("PUT", "/rest/api/2/issue/TEST-1"),
    ("POST", "/rest/api/2/issue/TEST-1/comment"),
    ("POST", "/rest/api/2/issue/TEST-1/worklog"),
    ("POST", "/rest/api/2/issue/TEST-1/transitions"),
    ("POST", "/rest/api/2/search"),
    ("POST", "/rest/api/2/issueLink"),
    ("POST", "/rest/pat/latest/tokens"),
    ("POST", "/rest/api/2/filter"),
    ("PUT", "/rest/api/2/filter/1"),
    ("POST", "/rest/api/2/version/1/move"),
]
FIELD_BODY = st.builds(
    lambda fields: json.dumps({"fields": fields}).encode("utf-8", "surrogatepass"),
    st.dictionaries(
        st.sampled_from(
            [
                "project",
                "issuetype",
                "summary",
                "description",
                "labels",
                "priority",
                "assignee",
                "duedate",
                "timetracking",
                "name",
                "expirationDuration",
                "body",
                "timeSpent",
                "jql",
                "favourite",
                "sharePermissions",
                "position",
                "after",
            ]
        ),
        JSON_VALUE,
        max_size=5,
    ),
)


@fuzz(150)
@given(target=st.sampled_from(BODY_TARGETS), body=st.one_of(json_bytes(), FIELD_BODY))
async def test_json_bodies_never_5xx(
    harness: HarnessFactory, target: tuple[str, str], body: bytes
) -> None:
    h, headers = await _shared(harness)
    method, path = target
    await _call(
        h, method, path, content=body, headers={**headers, "Content-Type": "application/json"}
    )


PAGED = [
    "/rest/api/2/search?startAt={}&maxResults={}",
    "/rest/api/2/issue/TEST-1/comment?startAt={}&maxResults={}",
    "/rest/api/2/issue/TEST-1/worklog?startAt={}&maxResults={}",
    "/rest/api/2/user/search?username=a&startAt={}&maxResults={}",
    "/rest/api/2/project/{}/versions?x={}",
    "/rest/api/2/issue/{}?fields={}",
    "/rest/api/2/issue/TEST-{}/comment/{}",
    "/rest/api/2/issue/TEST-1/worklog/{}?x={}",
    "/rest/api/2/attachment/{}?x={}",
    "/rest/api/2/issueLink/{}?x={}",
    "/rest/jiraguard/1/audit?startAt={}&maxResults={}",
    "/rest/pat/latest/tokens/{}?x={}",
    "/rest/api/2/filter/{}?x={}",
    "/rest/api/2/version/{}/relatedIssueCounts?x={}",
    "/rest/api/2/version/{}/unresolvedIssueCount?x={}",
]


@fuzz(150)
@given(template=st.sampled_from(PAGED), first=NUMBERISH, second=st.one_of(NUMBERISH, HOSTILE_TEXT))
async def test_paging_and_id_parameters_never_5xx(
    harness: HarnessFactory, template: str, first: str, second: str
) -> None:
    h, headers = await _shared(harness)
    path = template.format(quote(first, safe=""), quote(second, safe="", errors="surrogatepass"))
    for method in ("GET", "DELETE") if "tokens" in template else ("GET",):
        await _call(h, method, path, headers=headers)


@fuzz(200)
@given(query=jql(), how=st.sampled_from(["get", "post"]))
async def test_jql_never_5xx(harness: HarnessFactory, query: str, how: str) -> None:
    h, headers = await _shared(harness)
    if how == "get":
        path = "/rest/api/2/search?jql=" + quote(query, safe="", errors="surrogatepass")
        status = await _call(h, "GET", path, headers=headers)
    else:
        body = json.dumps({"jql": query, "maxResults": 5}).encode()
        status = await _call(
            h,
            "POST",
            "/rest/api/2/search",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
    assert status in (200, 400)


@fuzz(30)
@given(query=long_chain())
async def test_long_jql_chains_answer_or_are_refused(
    harness: HarnessFactory, database_url: str, query: str
) -> None:
    """Thousands of OR'ed clauses: a result or Jira's 400, on each database, never a 5xx."""
    h, headers = await _shared(harness, database_url)
    body = json.dumps({"jql": query, "maxResults": 5, "fields": ["key"]}).encode()
    with bounded(query[:100]):
        response = await h.client.post(
            "/rest/api/2/search",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
    assert response.status_code in (200, 400), response.text[:500]
    if response.status_code == 400:
        assert response.json()["errorMessages"], response.text[:500]


CLAIMS = st.dictionaries(
    st.sampled_from(["exp", "nbf", "iat", "iss", "sub", "aud", "preferred_username", "azp"]),
    st.one_of(JSON_VALUE, NUMBERISH),
    max_size=3,
)
AUTHORIZATION = st.one_of(
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    st.builds(
        lambda c: "Bearer " + signed_raw(json.dumps({**claims_for("alice"), **c}).encode()), CLAIMS
    ),
    st.builds(lambda raw: "Bearer " + signed_raw(raw), json_bytes()),
    st.builds(lambda raw: "Bearer e30." + signed_raw(raw).split(".", 1)[1], json_bytes()),
)


@fuzz(200)
@given(authorization=AUTHORIZATION)
async def test_authorization_headers_never_5xx(harness: HarnessFactory, authorization: str) -> None:
    h, _ = await _shared(harness)
    value = authorization.replace("\r", "").replace("\n", "")
    status = await _call(
        h, "GET", "/rest/api/2/myself", headers={"Authorization": value.encode("latin-1")}
    )
    assert status in (200, 400, 401, 403)


DECISION = st.builds(
    Decision,
    allowed=st.booleans(),
    reason=HOSTILE_TEXT,
    status=st.sampled_from([200, 400, 401, 403, 429, 503]),
    method=HOSTILE_TEXT,
    path=st.one_of(HOSTILE_TEXT, st.integers(0, 2100).map(lambda n: "/" + "\ud800" * n)),
    client=st.one_of(st.none(), HOSTILE_TEXT),
    username=st.one_of(st.none(), HOSTILE_TEXT),
    provider=st.one_of(st.none(), HOSTILE_TEXT),
    auth_method=st.one_of(st.none(), HOSTILE_TEXT),
    client_id=st.one_of(st.none(), HOSTILE_TEXT, st.text(min_size=200, max_size=400)),
    token_id=st.one_of(st.none(), HOSTILE_TEXT),
    fingerprint=st.one_of(st.none(), HOSTILE_TEXT),
)


@fuzz(60)
@given(decisions=st.lists(DECISION, min_size=1, max_size=12))
async def test_the_audit_writer_stores_every_record(
    harness: HarnessFactory, database_url: str, decisions: list[Decision]
) -> None:
    h, _ = await _shared(harness, database_url)
    sink = StoreAuditSink(h.services.db, AuditSettings(batch_size=5))
    for decision in decisions:
        sink.submit(decision)
    with bounded(len(decisions)):
        written = await sink.flush()
    assert (written, sink.dropped, sink.rejected) == (len(decisions), 0, 0)


_SHARED: list[tuple[HarnessFactory, tuple[Harness, dict[str, str]]]] = []


async def _shared(
    harness: HarnessFactory, url: str | None = None
) -> tuple[Harness, dict[str, str]]:
    """One app per test (the harness factory is per test), reused by every example. The
    factory itself is kept, so a later test's factory can never be mistaken for it."""
    if not _SHARED or _SHARED[0][0] is not harness:
        _SHARED[:] = [(harness, await _app(harness, url))]
    return _SHARED[0][1]
