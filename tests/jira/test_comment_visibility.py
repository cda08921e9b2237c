"""Comment ``visibility``: a comment restricted to a group or a project role is stored,
answered, and read only by that group's or role's members, on every read path (comment
list and get, issue ``fields.comment``, search with comment fields, ``comment ~``,
``text ~``), on each database.

Users (tests/jira/conftest.py): alice (admin flag, jira-users), bob (jira-users,
jira-administrators), carol (jira-users, developers), dave (no group). Project roles:
Administrators = jira-administrators (and the admin flag), Users = jira-users.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

DEVELOPERS = {"type": "group", "value": "developers"}
ADMINS = {"type": "role", "value": "Administrators"}


async def _comment(api: JiraApi, user: str, body: str, visibility: Any = None) -> dict[str, Any]:
    document: dict[str, Any] = {"body": body}
    if visibility is not None:
        document["visibility"] = visibility
    response = await api.call("POST", "/issue/TEST-1/comment", user, json=document)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _bodies(api: JiraApi, user: str) -> list[str]:
    response = await api.call("GET", "/issue/TEST-1/comment", user)
    assert response.status_code == 200
    listed = response.json()
    assert listed["total"] == len(listed["comments"])
    return [c["body"] for c in listed["comments"]]


async def _found(api: JiraApi, user: str, jql: str) -> int:
    response = await api.call("POST", "/search", user, json={"jql": jql, "fields": ["comment"]})
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


@pytest.fixture
async def restricted(api: JiraApi) -> dict[str, dict[str, Any]]:
    await api.project()
    await api.issue("Visibility")
    return {
        "public": await _comment(api, "bob", "everyone may read this"),
        "developers": await _comment(api, "carol", "plutonium for developers", DEVELOPERS),
        "admins": await _comment(api, "alice", "uranium for administrators", ADMINS),
    }


async def test_visibility_is_stored_and_answered(
    api: JiraApi, restricted: dict[str, dict[str, Any]]
) -> None:
    assert "visibility" not in restricted["public"]
    assert restricted["developers"]["visibility"] == DEVELOPERS
    assert restricted["admins"]["visibility"] == ADMINS
    got = await api.call("GET", f"/issue/TEST-1/comment/{restricted['admins']['id']}", "bob")
    assert got.json()["visibility"] == ADMINS


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("dave", ["everyone may read this"]),
        ("carol", ["everyone may read this", "plutonium for developers"]),
        ("bob", ["everyone may read this", "uranium for administrators"]),
        ("alice", ["everyone may read this", "uranium for administrators"]),
    ],
)
async def test_every_read_path_hides_what_the_reader_may_not_see(
    api: JiraApi, restricted: dict[str, dict[str, Any]], user: str, expected: list[str]
) -> None:
    assert await _bodies(api, user) == expected
    issue = (await api.call("GET", "/issue/TEST-1?fields=comment", user)).json()
    shown = issue["fields"]["comment"]
    assert [c["body"] for c in shown["comments"]] == expected
    assert shown["total"] == len(expected)
    searched = await api.call("GET", "/search?jql=key%3DTEST-1&fields=comment", user)
    comments = searched.json()["issues"][0]["fields"]["comment"]["comments"]
    assert [c["body"] for c in comments] == expected
    for word, owner in (("plutonium", "developers"), ("uranium", "admins")):
        visible = any(word in body for body in expected)
        assert await _found(api, user, f"comment ~ {word}") == int(visible), (word, owner)
        assert await _found(api, user, f"text ~ {word}") == int(visible)
        assert await _found(api, user, f"comment !~ {word}") == int(not visible)
        assert await _found(api, user, f"comment ~ {word} OR summary ~ nothing") == int(visible)


async def test_a_hidden_comment_does_not_exist_for_others(
    api: JiraApi, restricted: dict[str, dict[str, Any]]
) -> None:
    path = f"/issue/TEST-1/comment/{restricted['developers']['id']}"
    for method, kw in (("GET", {}), ("PUT", {"json": {"body": "x"}}), ("DELETE", {})):
        response = await api.call(method, path, "alice", **kw)  # an administrator, not a member
        assert response.status_code == 404, (method, response.text)
    assert (await api.call("GET", path, "carol")).status_code == 200


async def test_update_changes_or_keeps_the_visibility(
    api: JiraApi, restricted: dict[str, dict[str, Any]]
) -> None:
    path = f"/issue/TEST-1/comment/{restricted['developers']['id']}"
    kept = await api.call("PUT", path, "carol", json={"body": "edited"})
    assert kept.json()["visibility"] == DEVELOPERS
    users = {"type": "role", "value": "users"}  # role names match case-insensitively
    widened = await api.call("PUT", path, "carol", json={"body": "edited", "visibility": users})
    assert widened.status_code == 200, widened.text
    assert widened.json()["visibility"] == {"type": "role", "value": "Users"}
    assert "edited" in await _bodies(api, "bob")
    assert "edited" not in await _bodies(api, "dave")


async def test_edits_transitions_and_links_restrict_their_comments(api: JiraApi) -> None:
    await api.project()
    await api.issue("One")
    await api.issue("Two")
    add = {"add": {"body": "edit note", "visibility": DEVELOPERS}}
    edited = await api.call("PUT", "/issue/TEST-1", "carol", json={"update": {"comment": [add]}})
    assert edited.status_code == 204, edited.text
    moved = await api.call(
        "POST",
        "/issue/TEST-1/transitions",
        "bob",
        json={
            "transition": {"id": "5"},
            "update": {"comment": [{"add": {"body": "resolve note", "visibility": ADMINS}}]},
        },
    )
    assert moved.status_code == 204, moved.text
    linked = await api.call(
        "POST",
        "/issueLink",
        "carol",
        json={
            "type": {"name": "Relates"},
            "inwardIssue": {"key": "TEST-2"},
            "outwardIssue": {"key": "TEST-1"},
            "comment": {"body": "link note", "visibility": DEVELOPERS},
        },
    )
    assert linked.status_code == 201, linked.text
    assert await _bodies(api, "dave") == []
    assert await _bodies(api, "carol") == ["edit note", "link note"]
    assert await _bodies(api, "bob") == ["resolve note"]


@pytest.mark.parametrize(
    ("visibility", "message"),
    [
        ({"type": "group", "value": "developers"}, "not a member of the group: developers"),
        ({"type": "group", "value": "no-such-group"}, "Group: no-such-group does not exist."),
        ({"type": "role", "value": "Administrators"}, "not a member of the project role"),
        ({"type": "role", "value": "Testers"}, "Project role: Testers does not exist."),
        ({"type": "user", "value": "dave"}, "must be 'group' or 'role'"),
        ({"type": "group"}, "must name a group or a project role"),
        ({"type": "group", "value": 7}, "must name a group or a project role"),
        ({"type": "group", "value": "x" * 300}, "must name a group or a project role"),
        ("developers", "must be an object"),
    ],
)
async def test_bad_visibility_is_jiras_400(api: JiraApi, visibility: Any, message: str) -> None:
    await api.project()
    await api.issue("Visibility")
    for method, path in (("POST", "/issue/TEST-1/comment"), ("PUT", "/issue/TEST-1")):
        body: dict[str, Any] = {"body": "dave tries", "visibility": visibility}
        if method == "PUT":
            body = {"update": {"comment": [{"add": body}]}}
        response = await api.call(method, path, "dave", json=body)
        assert response.status_code == 400, response.text
        assert message in response.json()["errors"]["commentLevel"]
    assert await _bodies(api, "alice") == []  # nothing was written
