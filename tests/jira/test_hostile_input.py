"""Input that used to reach the database driver raw: huge numbers, non-ASCII digits and NUL
bytes get 400/404 in Jira's format on both databases, never a 500."""

from __future__ import annotations

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

HUGE = "9" * 30


async def test_huge_and_unicode_numbers(api: JiraApi) -> None:
    await api.project()
    await api.issue("x")
    for path in (
        f"/issue/{HUGE}",
        f"/issue/TEST-{HUGE}",
        f"/issue/TEST-1/comment/{HUGE}",
        f"/issue/TEST-1/worklog/{HUGE}",
        f"/project/{HUGE}",
        f"/attachment/{HUGE}",
        f"/attachment/content/{HUGE}",
        f"/issueLink/{HUGE}",
        f"/issue/createmeta/{HUGE}/issuetypes",
        f"/issue/TEST-1/remotelink/{HUGE}",
        f"/issue/{HUGE}/watchers",
        f"/issue/TEST-{HUGE}/properties",
        "/issue/²",
        "/issue/TEST-1/comment/²",
    ):
        response = await api.call("GET", path)
        assert response.status_code == 404, path
        assert response.json()["errorMessages"], path
    for path in (f"/issue/TEST-1/comment?startAt={HUGE}", f"/search?startAt={HUGE}"):
        response = await api.call("GET", path)
        assert response.status_code == 200, path
    for path in ("/issue/TEST-1/comment?startAt=²", "/search?maxResults=٣"):
        assert (await api.call("GET", path)).status_code == 400, path
    for body in (
        {"timeSpentSeconds": HUGE},
        {"timeSpent": f"{HUGE}w"},
        {"timeSpent": "9" * 400 + "h"},
        {"timeSpent": "٣h"},
    ):
        response = await api.call("POST", "/issue/TEST-1/worklog", json=body)
        assert response.status_code == 400, body
    created = await api.call(
        "POST",
        "/issue",
        json={"fields": {"project": {"id": HUGE}, "issuetype": {"id": "²"}, "summary": "s"}},
    )
    assert created.status_code == 400
    assert set(created.json()["errors"]) == {"project", "issuetype"}


async def test_nul_bytes(api: JiraApi) -> None:
    """SQLite stores NUL; PostgreSQL text cannot hold it, so there it is a 400 (not a 500)."""
    await api.project()
    await api.issue("x")
    postgres = api.harness.services.db.dialect == "postgresql"
    for method, path, body, on_sqlite in (
        ("POST", "/issue/TEST-1/comment", {"body": "a\u0000b"}, 201),
        ("PUT", "/issue/TEST-1", {"fields": {"summary": "a\u0000b"}}, 204),
        ("GET", "/user/search?username=a%00", None, 200),
        ("GET", "/issue/TEST%00", None, 404),
        ("GET", "/user?username=%00", None, 404),
        ("POST", "/issue/TEST-1/remotelink", {"globalId": "\u0000", "object": LINK}, 201),
    ):
        response = await api.call(method, path, json=body)
        assert response.status_code == (400 if postgres else on_sqlite), path
        if response.status_code >= 400:
            assert response.json()["errorMessages"], path
    for method in ("GET", "PUT", "DELETE"):  # a key with NUL is refused on both databases
        response = await api.call(method, "/issue/TEST-1/properties/a%00b", json=1)
        assert response.status_code == 400, method
    # A link's members are kept as JSON text, where a NUL is an escape: both databases take it
    body = {"object": {**LINK, "summary": "a\u0000b"}}
    made = await api.call("POST", "/issue/TEST-1/remotelink", json=body)
    assert made.status_code == 201, made.text
    link = (await api.call("GET", f"/issue/TEST-1/remotelink/{made.json()['id']}")).json()
    assert link["object"]["summary"] == "a\u0000b"
    escaped = await api.call("PUT", "/issue/TEST-1/properties/nul", content=b'"a\\u0000b"')
    assert escaped.status_code == 201  # the escape is text; the value holds a NUL
    value = (await api.call("GET", "/issue/TEST-1/properties/nul")).json()["value"]
    assert value == "a\u0000b"


LINK = {"url": "http://example.com/", "title": "t"}
WRITES = (
    ("POST", "/project"),
    ("PUT", "/project/TEST"),
    ("POST", "/issue"),
    ("POST", "/issue/bulk"),
    ("PUT", "/issue/TEST-1"),
    ("PUT", "/issue/TEST-1/assignee"),
    ("POST", "/issue/TEST-1/comment"),
    ("PUT", "/issue/TEST-1/comment/1"),
    ("POST", "/issue/TEST-1/transitions"),
    ("POST", "/issue/TEST-1/worklog"),
    ("PUT", "/issue/TEST-1/worklog/1"),
    ("POST", "/issueLink"),
    ("POST", "/search"),
    ("POST", "/issue/TEST-1/watchers"),
    ("POST", "/issue/TEST-1/remotelink"),
    ("PUT", "/issue/TEST-1/remotelink/1"),
    ("PUT", "/issue/TEST-1/properties/p"),
)
GARBAGE: tuple[object, ...] = (
    None,
    [],
    "text",
    7,
    True,
    {"fields": []},
    {"fields": {"summary": {}, "labels": "x", "priority": [], "assignee": 3, "duedate": 5}},
    {"fields": {"project": [], "issuetype": "Bug", "summary": "s"}},
    {"update": {"labels": [{"add": None}, {"set": 1}, "x", {}]}},
    {"update": {"comment": [{"add": "text"}, {"remove": {}}]}},
    {"update": []},
    {"transition": "5"},
    {"transition": {"id": []}},
    {"transition": {"id": "5"}, "fields": {"resolution": "Fixed"}},
    {"body": {"nested": True}},
    {"name": ["alice"]},
    {"key": 5, "name": 5, "lead": [], "description": {}},
    {"timeSpent": 90, "started": 5, "comment": []},
    {"type": "Blocks", "inwardIssue": "TEST-1", "outwardIssue": {"key": []}},
    {"jql": None, "startAt": "x", "fields": {}, "expand": 3},
    {"a": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]},
)


async def test_no_write_endpoint_answers_500(api: JiraApi) -> None:
    """Every write endpoint answers garbage with a 2xx or a Jira-format 4xx."""
    await api.project()
    await api.issue("x")
    await api.call("POST", "/issue/TEST-1/comment", json={"body": "c"})
    await api.call("POST", "/issue/TEST-1/worklog", json={"timeSpent": "1h"})
    await api.call("POST", "/issue/TEST-1/remotelink", json={"object": LINK})
    for method, path in WRITES:
        for body in GARBAGE:
            response = await api.call(method, path, json=body)
            assert response.status_code < 500, (method, path, body, response.text)
            if response.status_code >= 400:
                assert set(response.json()) == {"errorMessages", "errors"}, (method, path, body)
    for content in (
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the parser's recursion limit
        b'{"startAt": ' + b"1" * 5000 + b"}",  # past Python's int-digits limit
        b'{"startAt": 1e999, "maxResults": NaN}',
    ):
        response = await api.call("POST", "/search", content=content)
        assert response.status_code == 400, content[:20]
        assert response.json()["errorMessages"]


async def test_lone_surrogates(api: JiraApi) -> None:
    r"""JSON's ``"\ud800"`` is valid syntax but not Unicode: 400 before any driver sees it."""
    await api.project()
    await api.issue("x")
    for path, content in (
        ("/issue/TEST-1/comment", b'{"body": "a\\ud800b"}'),
        ("/issue", b'{"fields": {"summary": "ok"}, "\\udfff": 1}'),
        ("/search", b'{"jql": "summary ~ \\"\\ud800\\""}'),
    ):
        response = await api.call("POST", path, content=content)
        assert response.status_code == 400, path
        assert response.json()["errorMessages"] == [
            "The request body contains an unpaired surrogate (invalid Unicode)."
        ]
    # invalid UTF-8 in URLs is decoded with U+FFFD replacements: an ordinary miss
    found = await api.call("GET", "/user/search?username=%ED%A0%80")
    assert (found.status_code, found.json()) == (200, [])
    assert (await api.call("GET", "/issue/%ED%A0%80")).status_code == 404


async def test_time_tracking_filters_and_version_moves(api: JiraApi) -> None:
    """The new resources' numbers and durations: huge, non-ASCII or negative values are
    Jira's 400 (or 404 for a path), never a 500."""
    await api.project()
    key = (await api.issue("x"))["key"]
    version = (await api.call("POST", "/version", json={"project": "TEST", "name": "1"})).json()
    worklog = (await api.call("POST", f"/issue/{key}/worklog", json={"timeSpent": "1h"})).json()
    for value in (HUGE, f"{HUGE}w", "9" * 400 + "h", "٣h", "-1h", "1h 2x"):
        for member in ("originalEstimate", "remainingEstimate"):
            body = {"fields": {"timetracking": {member: value}}}
            response = await api.call("PUT", f"/issue/{key}", json=body)
            assert response.status_code == 400, (member, value)
        for query in (f"adjustEstimate=new&newEstimate={value}", f"adjustEstimate={value}"):
            response = await api.call(
                "POST", f"/issue/{key}/worklog?{query}", json={"timeSpent": "1m"}
            )
            assert response.status_code == 400, query
        response = await api.call(
            "DELETE",
            f"/issue/{key}/worklog/{worklog['id']}?adjustEstimate=manual&increaseBy={value}",
        )
        assert response.status_code == 400, value
        for jql in (f"timeSpent > '{value}'", f"filter = '{value}'"):
            response = await api.call("GET", "/search", params={"jql": jql})
            assert response.status_code == 400, jql
    for ident in (HUGE, "²", "-1"):
        for path in (
            f"/version/{ident}/relatedIssueCounts",
            f"/version/{ident}/unresolvedIssueCount",
        ):
            assert (await api.call("GET", path)).status_code == 404, path
        response = await api.call("POST", f"/version/{ident}/move", json={"position": "First"})
        assert response.status_code == 404, ident
        assert (await api.call("GET", f"/filter/{ident}")).status_code == 400, ident
        response = await api.call(
            "POST", f"/version/{version['id']}/move", json={"after": f"/version/{ident}"}
        )
        assert response.status_code == 400, ident
    response = await api.call("POST", "/filter", json={"name": "n", "jql": "x" * 200_000})
    assert response.status_code in (400, 413)
    response = await api.call("POST", "/filter", json={"name": "n", "jql": f"filter = {HUGE}"})
    assert response.status_code == 400
