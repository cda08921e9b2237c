"""An issue's watchers, votes, remote links and properties over plain HTTP: Jira Server's
shapes and statuses, who may change what, the 400/404 answers to bad input, and what an
issue's deletion takes along, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from jiraguard.store.models import IssueProperty, RemoteLink, issue_voters, issue_watchers
from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

BASE = "http://jira.test/rest/api/2"
ISSUE = "/issue/TEST-1"


@pytest.fixture
async def issue(api: JiraApi) -> JiraApi:
    """TEST-1, reported by alice."""
    await api.project()
    await api.issue("Watched")
    return api


async def _names(api: JiraApi, what: str, user: str = "alice") -> list[str]:
    body = (await api.call("GET", f"{ISSUE}/{what}", user=user)).json()
    return [person["name"] for person in body["watchers" if what == "watchers" else "voters"]]


async def _fields(api: JiraApi, user: str) -> dict[str, Any]:
    response = await api.call("GET", f"{ISSUE}?fields=watches,votes", user=user)
    assert response.status_code == 200, response.text
    fields: dict[str, Any] = response.json()["fields"]
    return fields


# Watchers


async def test_the_reporter_watches_a_new_issue(issue: JiraApi) -> None:
    body = (await issue.call("GET", f"{ISSUE}/watchers")).json()
    alice = (await issue.call("GET", "/user?username=alice")).json()
    del alice["groups"]
    assert body == {
        "self": f"{BASE}/issue/TEST-1/watchers",
        "isWatching": True,
        "watchCount": 1,
        "watchers": [alice],
    }
    assert (await _fields(issue, "alice"))["watches"] == {
        "self": f"{BASE}/issue/TEST-1/watchers",
        "watchCount": 1,
        "isWatching": True,
    }
    assert (await _fields(issue, "carol"))["watches"]["isWatching"] is False
    reported = await issue.issue("For carol", reporter={"name": "carol"})
    key = reported["key"]
    watchers = (await issue.call("GET", f"/issue/{key}/watchers")).json()["watchers"]
    assert sorted(w["name"] for w in watchers) == ["alice", "carol"]


@pytest.mark.parametrize("body", [b"", b'"carol"', b"carol", b"null", b' "CAROL" '])
async def test_watching_yourself(issue: JiraApi, body: bytes) -> None:
    response = await issue.call("POST", f"{ISSUE}/watchers", user="carol", content=body)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert await _names(issue, "watchers") == ["alice", "carol"]
    assert (await _fields(issue, "carol"))["watches"] == {
        "self": f"{BASE}/issue/TEST-1/watchers",
        "watchCount": 2,
        "isWatching": True,
    }
    again = await issue.call("POST", f"{ISSUE}/watchers", user="carol", content=body)
    assert again.status_code == 204
    assert await _names(issue, "watchers") == ["alice", "carol"]
    gone = await issue.call("DELETE", f"{ISSUE}/watchers?username=carol", user="carol")
    assert gone.status_code == 204
    assert await _names(issue, "watchers") == ["alice"]
    twice = await issue.call("DELETE", f"{ISSUE}/watchers?username=carol", user="carol")
    assert twice.status_code == 204


async def test_only_project_administrators_manage_other_watchers(issue: JiraApi) -> None:
    refused = await issue.call("POST", f"{ISSUE}/watchers", user="carol", json="dave")
    assert refused.status_code == 401
    assert refused.json() == {
        "errorMessages": ["User 'carol' is not allowed to add watchers to issue 'TEST-1'"],
        "errors": {},
    }
    removing = await issue.call("DELETE", f"{ISSUE}/watchers?username=alice", user="carol")
    assert removing.status_code == 401
    assert removing.json()["errorMessages"] == [
        "User 'carol' is not allowed to remove watchers from issue 'TEST-1'"
    ]
    assert await _names(issue, "watchers") == ["alice"]
    # bob administers projects (jira-administrators): he manages the watcher list
    added = await issue.call("POST", f"{ISSUE}/watchers", user="bob", json="dave")
    assert added.status_code == 204
    assert await _names(issue, "watchers", user="carol") == ["alice", "dave"]
    removed = await issue.call("DELETE", f"{ISSUE}/watchers?username=alice", user="bob")
    assert removed.status_code == 204
    assert await _names(issue, "watchers") == ["dave"]
    anonymous = await issue.harness.client.get(f"/rest/api/2{ISSUE}/watchers")
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/watchers", b'"nobody"', 404, "The user named 'nobody' does not exist"),
        ("POST", "/watchers", b"{}", 400, None),
        ("POST", "/watchers", b"[1]", 400, None),
        ("POST", "/watchers", b"42", 400, None),
        ("POST", "/watchers", b'"unterminated', 400, None),
        ("POST", "/watchers", b"\xff\xfe", 400, None),
        ("POST", "/watchers", b'"' + b"x" * 300 + b'"', 404, None),
        ("POST", "/watchers", b'"a\\u0000b"', 404, None),
        ("DELETE", "/watchers", None, 400, "The username query parameter was not provided"),
        ("DELETE", "/watchers?username=nobody", None, 404, None),
    ],
)
async def test_bad_watcher_requests(
    issue: JiraApi, method: str, path: str, body: bytes | None, status: int, message: str | None
) -> None:
    response = await issue.call(method, f"{ISSUE}{path}", content=body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert set(answer) == {"errorMessages", "errors"}
    if message is not None:
        assert answer["errorMessages"] == [message]
    assert await _names(issue, "watchers") == ["alice"]


# Votes


async def test_votes(issue: JiraApi) -> None:
    empty = (await issue.call("GET", f"{ISSUE}/votes")).json()
    assert empty == {
        "self": f"{BASE}/issue/TEST-1/votes",
        "votes": 0,
        "hasVoted": False,
        "voters": [],
    }
    for user in ("carol", "dave", "carol"):
        response = await issue.call("POST", f"{ISSUE}/votes", user=user)
        assert response.status_code == 204, response.text
    body = (await issue.call("GET", f"{ISSUE}/votes", user="dave")).json()
    assert (body["votes"], body["hasVoted"]) == (2, True)
    assert [v["name"] for v in body["voters"]] == ["carol", "dave"]
    assert body["voters"][0]["self"] == f"{BASE}/user?username=carol"
    assert (await _fields(issue, "carol"))["votes"] == {
        "self": f"{BASE}/issue/TEST-1/votes",
        "votes": 2,
        "hasVoted": True,
    }
    assert (await _fields(issue, "alice"))["votes"]["hasVoted"] is False
    assert (await issue.call("DELETE", f"{ISSUE}/votes", user="carol")).status_code == 204
    assert await _names(issue, "votes") == ["dave"]
    assert (await issue.call("DELETE", f"{ISSUE}/votes", user="carol")).status_code == 204


async def test_no_vote_on_your_own_or_a_resolved_issue(issue: JiraApi) -> None:
    for method in ("POST", "DELETE"):
        own = await issue.call(method, f"{ISSUE}/votes")
        assert own.status_code == 404
        assert own.json() == {
            "errorMessages": ["You cannot vote for an issue you have reported."],
            "errors": {},
        }
    assert (await issue.call("POST", f"{ISSUE}/votes", user="carol")).status_code == 204
    resolve = await issue.call("POST", f"{ISSUE}/transitions", json={"transition": {"id": "5"}})
    assert resolve.status_code == 204, resolve.text
    for method in ("POST", "DELETE"):
        resolved = await issue.call(method, f"{ISSUE}/votes", user="dave")
        assert resolved.status_code == 404
        assert resolved.json()["errorMessages"] == [
            "You cannot vote or change your vote on resolved issues."
        ]
    assert await _names(issue, "votes") == ["carol"]
    missing = await issue.call("POST", "/issue/TEST-99/votes", user="carol")
    assert (missing.status_code, missing.json()["errorMessages"]) == (404, ["Issue Does Not Exist"])


# Remote links

FULL = {
    "globalId": "system=http://www.mycompany.com/support&id=1",
    "application": {"type": "com.acme.tracker", "name": "My Acme Tracker"},
    "relationship": "causes",
    "object": {
        "url": "http://www.mycompany.com/support?id=1",
        "title": "TSTSUP-111",
        "summary": "Crazy customer support issue",
        "icon": {"url16x16": "http://www.mycompany.com/support/ticket.png", "title": "Ticket"},
        "status": {
            "resolved": True,
            "icon": {
                "url16x16": "http://www.mycompany.com/support/resolved.png",
                "title": "Case Closed",
                "link": "http://www.mycompany.com/support?id=1&details=closed",
            },
        },
    },
}


async def _link(api: JiraApi, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = await api.call("POST", f"{ISSUE}/remotelink", json=body)
    assert response.status_code == status, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_remote_link_shapes(issue: JiraApi) -> None:
    created = await _link(issue, FULL)
    link_id = created["id"]
    assert isinstance(link_id, int)
    assert created == {"id": link_id, "self": f"{BASE}/issue/TEST-1/remotelink/{link_id}"}
    full = (await issue.call("GET", f"{ISSUE}/remotelink/{link_id}")).json()
    assert full == {"id": link_id, "self": created["self"], **FULL}
    simple = await _link(issue, {"object": {"url": "http://example.com/", "title": "Example"}})
    assert simple["id"] != link_id
    assert (await issue.call("GET", f"/issue/1/remotelink/{simple['id']}")).json() == {
        "id": simple["id"],
        "self": simple["self"],
        "application": {},
        "object": {
            "url": "http://example.com/",
            "title": "Example",
            "icon": {},
            "status": {"icon": {}},
        },
    }
    listed = (await issue.call("GET", f"{ISSUE}/remotelink")).json()
    assert [link["id"] for link in listed] == [link_id, simple["id"]]
    assert listed[0] == full
    by_global = await issue.call(
        "GET", f"{ISSUE}/remotelink", params={"globalId": FULL["globalId"]}
    )
    assert by_global.json() == full
    history = (await issue.call("GET", f"{ISSUE}?expand=changelog")).json()["changelog"]
    item = history["histories"][0]["items"][0]
    assert (item["field"], item["to"], item["toString"]) == (
        "RemoteIssueLink",
        str(link_id),
        'This issue links to "TSTSUP-111 (http://www.mycompany.com/support?id=1)"',
    )


async def test_a_known_global_id_updates_its_link(issue: JiraApi) -> None:
    first = await _link(issue, FULL)
    changed = {**FULL, "object": {"url": "http://example.com/2", "title": "Moved"}}
    second = await _link(issue, changed, status=200)
    assert second == first
    listed = (await issue.call("GET", f"{ISSUE}/remotelink")).json()
    assert len(listed) == 1
    assert listed[0]["object"]["title"] == "Moved"
    assert "relationship" in listed[0]
    without = {"object": {"url": "http://example.com/", "title": "Plain"}}
    assert (await _link(issue, without))["id"] != (await _link(issue, without))["id"]


async def test_replace_and_delete_remote_links(issue: JiraApi) -> None:
    made = await _link(issue, FULL)
    path = f"{ISSUE}/remotelink/{made['id']}"
    replaced = await issue.call(
        "PUT", path, json={"object": {"url": "http://example.com/", "title": "Replaced"}}
    )
    assert replaced.status_code == 204, replaced.text
    body = (await issue.call("GET", path)).json()
    assert (body["object"]["title"], "globalId" in body, "relationship" in body) == (
        "Replaced",
        False,
        False,
    )
    assert (await issue.call("DELETE", path)).status_code == 204
    assert (await issue.call("GET", path)).status_code == 404
    assert (await issue.call("GET", f"{ISSUE}/remotelink")).json() == []

    shared = {"globalId": "shared", "object": {"url": "http://a/", "title": "a"}}
    await _link(issue, shared)
    other = await _link(issue, {"object": {"url": "http://a/", "title": "a2"}})
    moved = await issue.call("PUT", f"{ISSUE}/remotelink/{other['id']}", json=shared)
    assert moved.status_code == 204
    await _link(issue, {"object": {"url": "http://b/", "title": "b"}})
    deleted = await issue.call("DELETE", f"{ISSUE}/remotelink", params={"globalId": "shared"})
    assert deleted.status_code == 204
    assert [
        link["object"]["title"] for link in (await issue.call("GET", f"{ISSUE}/remotelink")).json()
    ] == ["b"]
    again = await issue.call("DELETE", f"{ISSUE}/remotelink", params={"globalId": "shared"})
    assert again.status_code == 404
    assert (await issue.call("DELETE", f"{ISSUE}/remotelink")).status_code == 400


async def test_remote_link_ids_name_links_of_the_issue(issue: JiraApi) -> None:
    await issue.issue("Other")
    made = await _link(issue, FULL)
    elsewhere = await issue.call("GET", f"/issue/TEST-2/remotelink/{made['id']}")
    assert elsewhere.status_code == 404
    assert elsewhere.json() == {
        "errorMessages": [f"No remote issue link with id '{made['id']}' exists on issue 'TEST-2'."],
        "errors": {},
    }
    for ident, status in (("-1", 404), ("0", 404), ("9" * 40, 404), ("99a", 400), ("²", 400)):
        for method in ("GET", "DELETE", "PUT"):
            body = {"object": {"url": "http://a/", "title": "a"}} if method == "PUT" else None
            response = await issue.call(method, f"{ISSUE}/remotelink/{ident}", json=body)
            assert response.status_code == status, (ident, method, response.text)
    missing = await issue.call("GET", f"{ISSUE}/remotelink", params={"globalId": "nope"})
    assert missing.status_code == 404
    assert (await issue.call("GET", "/issue/TEST-9/remotelink")).status_code == 404


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"url": "'url' is required.", "title": "'title' is required."}),
        ({"object": {"url": "http://a/"}}, {"title": "'title' is required."}),
        ({"object": {"url": "  ", "title": "t"}}, {"url": "'url' is required."}),
        ({"object": {"url": "http://a/", "title": "   "}}, {"title": "'title' is required."}),
        (
            {"object": {"url": "this is not a valid URI", "title": "t"}},
            {"url": "'url' is not a valid URI."},
        ),
        (
            {"object": {"url": "http://a/", "title": "t", "icon": {"url16x16": "a b"}}},
            {"iconUrl": "'iconUrl' is not a valid URI."},
        ),
        (
            {
                "object": {
                    "url": "http://a/",
                    "title": "t",
                    "status": {"icon": {"url16x16": "<x>", "link": "http://[::1/"}},
                }
            },
            {
                "statusIconUrl": "'statusIconUrl' is not a valid URI.",
                "statusIconLink": "'statusIconLink' is not a valid URI.",
            },
        ),
        (
            {"object": "http://a/"},
            {
                "object": "'object' must be a JSON object.",
                "url": "'url' is required.",
                "title": "'title' is required.",
            },
        ),
        (
            {"object": {"url": 5, "title": ["t"]}},
            {"url": "'url' must be a string.", "title": "'title' must be a string."},
        ),
        (
            {"object": {"url": "http://a/", "title": "x" * 256}},
            {"title": "'title' must not be longer than 255 characters."},
        ),
        (
            {"globalId": "g" * 256, "object": {"url": "http://a/", "title": "t"}},
            {"globalId": "'globalId' must not be longer than 255 characters."},
        ),
        (
            {"object": {"url": "http://a/", "title": "t", "status": {"resolved": "yes"}}},
            {"resolved": "'resolved' must be true or false."},
        ),
        (
            {"application": [], "object": {"url": "http://a/", "title": "t"}},
            {"application": "'application' must be a JSON object."},
        ),
    ],
)
async def test_bad_remote_links_are_400(
    issue: JiraApi, body: dict[str, Any], errors: dict[str, str]
) -> None:
    response = await issue.call("POST", f"{ISSUE}/remotelink", json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"errorMessages": [], "errors": errors}
    made = await _link(issue, {"object": {"url": "http://a/", "title": "t"}})
    replaced = await issue.call("PUT", f"{ISSUE}/remotelink/{made['id']}", json=body)
    assert replaced.status_code == 400
    assert replaced.json()["errors"] == errors
    assert [link["id"] for link in (await issue.call("GET", f"{ISSUE}/remotelink")).json()] == [
        made["id"]
    ]


async def test_blank_optional_members_are_kept(issue: JiraApi) -> None:
    body = {
        "globalId": "    ",
        "relationship": "    ",
        "object": {"url": "http://a/", "title": "t", "summary": "    ", "icon": {"url16x16": ""}},
    }
    made = await _link(issue, body)
    got = (await issue.call("GET", f"{ISSUE}/remotelink/{made['id']}")).json()
    assert (got["globalId"], got["relationship"], got["object"]["summary"]) == ("    ",) * 3
    assert got["object"]["icon"] == {"url16x16": ""}


# Properties


async def test_issue_properties(issue: JiraApi) -> None:
    assert (await issue.call("GET", f"{ISSUE}/properties")).json() == {"keys": []}
    values: list[Any] = [{"a": [1, 2.5, None, True]}, "text", 7, [], None, False]
    for number, value in enumerate(values):
        key = f"k{number}"
        created = await issue.call("PUT", f"{ISSUE}/properties/{key}", content=json.dumps(value))
        assert created.status_code == 201, created.text
        got = await issue.call("GET", f"{ISSUE}/properties/{key}")
        assert got.json() == {"key": key, "value": value}
    replaced = await issue.call("PUT", f"{ISSUE}/properties/k0", json={"b": "ü"})
    assert (replaced.status_code, replaced.content) == (200, b"")
    assert (await issue.call("GET", "/issue/1/properties/k0")).json()["value"] == {"b": "ü"}
    odd = "a key: with spaces & ünïcode"
    assert (await issue.call("PUT", f"{ISSUE}/properties/{odd}", json=1)).status_code == 201
    listed = (await issue.call("GET", f"{ISSUE}/properties")).json()["keys"]
    assert [entry["key"] for entry in listed] == [odd, "k0", "k1", "k2", "k3", "k4", "k5"]
    assert listed[1] == {"self": f"{BASE}/issue/TEST-1/properties/k0", "key": "k0"}
    assert listed[0]["self"] == (
        f"{BASE}/issue/TEST-1/properties/a%20key%3A%20with%20spaces%20%26%20%C3%BCn%C3%AFcode"
    )
    assert (await issue.call("DELETE", f"{ISSUE}/properties/k0")).status_code == 204
    gone = await issue.call("GET", f"{ISSUE}/properties/k0")
    assert gone.status_code == 404
    assert gone.json() == {
        "errorMessages": ["The property with key 'k0' does not exist."],
        "errors": {},
    }
    assert (await issue.call("DELETE", f"{ISSUE}/properties/k0")).status_code == 404
    assert (await issue.call("GET", "/issue/TEST-7/properties")).status_code == 404


@pytest.mark.parametrize(
    ("key", "body", "message"),
    [
        ("k", b"", "The property value cannot be empty."),
        ("k", b"   ", "The property value cannot be empty."),
        ("k", b"{", None),
        ("k", b"[1,]", None),
        ("k", b"\xff", None),
        ("k", b'"\\ud800"', "The property value contains an unpaired surrogate."),
        ("k", b"[" * 5000 + b"]" * 5000, None),
        (
            "k",
            b'"' + b"x" * 32767 + b'"',
            "The property value cannot be longer than 32768 characters.",
        ),
        ("x" * 256, b"1", "The property key cannot be longer than 255 characters."),
    ],
)
async def test_bad_properties_are_400(
    issue: JiraApi, key: str, body: bytes, message: str | None
) -> None:
    response = await issue.call("PUT", f"{ISSUE}/properties/{key}", content=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["errors"] == {}
    if message is not None:
        assert answer["errorMessages"] == [message]
    assert (await issue.call("GET", f"{ISSUE}/properties")).json() == {"keys": []}


async def test_the_largest_property_value_and_key_fit(issue: JiraApi) -> None:
    value = "x" * 32766
    key = "k" * 255
    response = await issue.call("PUT", f"{ISSUE}/properties/{key}", json=value)
    assert response.status_code == 201, response.text
    assert (await issue.call("GET", f"{ISSUE}/properties/{key}")).json()["value"] == value


# Deletion


async def test_deleting_an_issue_takes_its_subresources(issue: JiraApi) -> None:
    await issue.issue("Kept")
    for key in ("TEST-1", "TEST-2"):
        assert (await issue.call("POST", f"/issue/{key}/watchers", user="carol")).status_code == 204
        assert (await issue.call("POST", f"/issue/{key}/votes", user="carol")).status_code == 204
        link = {"object": {"url": "http://a/", "title": key}}
        assert (await issue.call("POST", f"/issue/{key}/remotelink", json=link)).status_code == 201
        assert (await issue.call("PUT", f"/issue/{key}/properties/p", json=1)).status_code == 201
    assert (await issue.call("DELETE", ISSUE)).status_code == 204
    tables = (issue_watchers, issue_voters, RemoteLink.__table__, IssueProperty.__table__)
    async with issue.harness.services.db.session() as session:
        rows = [await session.scalar(select(func.count()).select_from(t)) for t in tables]
    # TEST-2's rows only: alice and carol watch it, carol voted, one link, one property
    assert rows == [2, 1, 1, 1]
    kept = (await issue.call("GET", "/issue/TEST-2/watchers")).json()["watchers"]
    assert [w["name"] for w in kept] == ["alice", "carol"]


# JQL


async def _keys(api: JiraApi, jql: str, user: str = "alice") -> list[str]:
    response = await api.call("GET", "/search", user=user, params={"jql": jql, "fields": "key"})
    assert response.status_code == 200, (jql, response.text)
    return sorted(issue["key"] for issue in response.json()["issues"])


async def test_jql_watchers_and_votes(issue: JiraApi) -> None:
    await issue.issue("Second")
    await issue.issue("Third")
    await issue.call("DELETE", "/issue/TEST-3/watchers?username=alice")
    await issue.call("POST", "/issue/TEST-2/watchers", user="carol")
    await issue.call("POST", "/issue/TEST-1/votes", user="carol")
    await issue.call("POST", "/issue/TEST-2/votes", user="carol")
    await issue.call("POST", "/issue/TEST-2/votes", user="dave")
    cases = {
        "watcher = alice": ["TEST-1", "TEST-2"],
        "watcher = CAROL": ["TEST-2"],
        "watcher in (carol, dave)": ["TEST-2"],
        "watcher = carol OR watcher = dave": ["TEST-2"],
        "watcher != carol": ["TEST-1"],
        "watcher not in (alice)": [],
        "watcher is EMPTY": ["TEST-3"],
        "watcher is not EMPTY": ["TEST-1", "TEST-2"],
        "watcher in (carol, EMPTY)": ["TEST-2", "TEST-3"],
        'watcher in membersOf("developers")': ["TEST-2"],
        "watchers = 0": ["TEST-3"],
        "watchers > 1": ["TEST-2"],
        "watchers >= 1": ["TEST-1", "TEST-2"],
        "watchers != 1": ["TEST-2", "TEST-3"],
        "voter = carol": ["TEST-1", "TEST-2"],
        "voter = dave AND watcher = carol": ["TEST-2"],
        "voter is EMPTY": ["TEST-3"],
        "votes > 1": ["TEST-2"],
        "votes < 1": ["TEST-3"],
        "votes <= 1 AND votes >= 1": ["TEST-1"],
    }
    for jql, expected in cases.items():
        assert await _keys(issue, jql) == expected, jql
    assert await _keys(issue, "watcher = currentUser()", user="carol") == ["TEST-2"]
    assert await _keys(issue, "voter = currentUser()", user="dave") == ["TEST-2"]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("watcher = nobody", "The value 'nobody' does not exist for the field 'watcher'."),
        ("voter ~ carol", "The operator '~' is not supported by the 'voter' field."),
        ("watcher > carol", "The operator '>' is not supported by the 'watcher' field."),
        (
            "votes = many",
            "The value 'many' for field 'votes' is invalid - please specify a positive integer.",
        ),
        (
            "watchers > -1",
            "The value '-1' for field 'watchers' is invalid - please specify a positive integer.",
        ),
        (
            "votes = " + "9" * 40,
            f"The value '{'9' * 40}' for field 'votes' is invalid - please specify a positive "
            "integer.",
        ),
        ("votes in (1, 2)", "The operator 'in' is not supported by the 'votes' field."),
        ("votes is EMPTY", "The operator 'is' is not supported by the 'votes' field."),
        (
            "watchers = now()",
            "A value provided by the function 'now' is invalid for the field 'watchers'.",
        ),
        ("votes = EMPTY", None),
    ],
)
async def test_bad_jql_on_watchers_and_votes(issue: JiraApi, jql: str, message: str | None) -> None:
    response = await issue.call("GET", "/search", params={"jql": jql})
    assert response.status_code == 400, response.text
    if message is not None:
        assert response.json() == {"errorMessages": [message], "errors": {}}


async def test_concurrent_writes_of_the_same_row_both_succeed(issue: JiraApi) -> None:
    """Two requests adding the same watcher, vote or property at once: no 5xx, one row."""
    calls = [
        issue.call("POST", f"{ISSUE}/watchers", user="carol"),
        issue.call("POST", f"{ISSUE}/watchers", user="carol"),
        issue.call("POST", f"{ISSUE}/votes", user="dave"),
        issue.call("POST", f"{ISSUE}/votes", user="dave"),
        issue.call("PUT", f"{ISSUE}/properties/p", json=1),
        issue.call("PUT", f"{ISSUE}/properties/p", json=2),
    ]
    answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers[:4]] == [204] * 4
    assert sorted(a.status_code for a in answers[4:]) == [200, 201]
    assert await _names(issue, "watchers") == ["alice", "carol"]
    assert await _names(issue, "votes") == ["dave"]
    assert (await issue.call("GET", f"{ISSUE}/properties")).json()["keys"][0]["key"] == "p"
