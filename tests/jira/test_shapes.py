"""The JSON shapes of docs/jira-compat.md §5, checked member by member over plain HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

BASE = "http://jira.test/rest/api/2"
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
USER_KEYS = {
    "self",
    "key",
    "name",
    "emailAddress",
    "displayName",
    "active",
    "timeZone",
    "avatarUrls",
}


def assert_user(body: dict[str, Any], name: str, display: str) -> None:
    assert set(body) == USER_KEYS
    assert body["self"] == f"{BASE}/user?username={name}"
    assert (body["name"], body["displayName"], body["emailAddress"]) == (
        name,
        display,
        f"{name}@example.com",
    )
    assert re.fullmatch(r"JIRAUSER\d+", body["key"])
    assert body["active"] is True
    assert set(body["avatarUrls"]) == {"48x48", "24x24", "16x16", "32x32"}


@pytest.fixture
async def seeded(api: JiraApi) -> JiraApi:
    await api.project()
    await api.issue("Shape", description="d", labels=["l"], assignee={"name": "carol"})
    return api


async def test_vocabularies(seeded: JiraApi) -> None:
    types = (await seeded.call("GET", "/issuetype")).json()
    assert types[0] == {
        "self": f"{BASE}/issuetype/1",
        "id": "1",
        "name": "Bug",
        "subtask": False,
        "description": "A problem which impairs or prevents the functions of the product.",
        "iconUrl": "http://jira.test/images/icons/issuetypes/bug.svg",
        "avatarId": 10301,
    }
    assert (await seeded.call("GET", "/issuetype/1")).json() == types[0]
    statuses = (await seeded.call("GET", "/status")).json()
    assert [s["name"] for s in statuses] == [
        "Open",
        "In Progress",
        "Reopened",
        "Resolved",
        "Closed",
    ]
    assert statuses[0]["statusCategory"] == {
        "self": f"{BASE}/statuscategory/2",
        "id": 2,
        "key": "new",
        "colorName": "blue-gray",
        "name": "To Do",
    }
    assert (await seeded.call("GET", "/statuscategory/2")).json() == statuses[0]["statusCategory"]
    medium = (await seeded.call("GET", "/priority/3")).json()
    assert (medium["self"], medium["id"], medium["name"]) == (f"{BASE}/priority/3", "3", "Medium")
    assert {"iconUrl", "description"} <= set(medium)
    assert [r["name"] for r in (await seeded.call("GET", "/resolution")).json()][:2] == [
        "Fixed",
        "Won't Fix",
    ]
    links = (await seeded.call("GET", "/issueLinkType")).json()["issueLinkTypes"]
    assert links[0] == {
        "self": f"{BASE}/issueLinkType/10000",
        "id": "10000",
        "name": "Blocks",
        "inward": "is blocked by",
        "outward": "blocks",
    }


async def test_field_list(seeded: JiraApi) -> None:
    fields = {f["id"]: f for f in (await seeded.call("GET", "/field")).json()}
    assert fields["summary"] == {
        "id": "summary",
        "key": "summary",
        "name": "Summary",
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": ["summary"],
        "schema": {"type": "string", "system": "summary"},
    }
    assert fields["issuetype"]["clauseNames"] == ["issuetype", "type"]
    assert fields["labels"]["schema"] == {"type": "array", "system": "labels", "items": "string"}


async def test_project_and_user(seeded: JiraApi) -> None:
    (project,) = (await seeded.call("GET", "/project")).json()
    assert set(project) == {
        "expand",
        "self",
        "id",
        "key",
        "name",
        "projectTypeKey",
        "assigneeType",
        "avatarUrls",
        "lead",
        "description",
        "archived",
    }
    assert project["assigneeType"] == "UNASSIGNED"
    assert (project["self"], project["id"], project["key"]) == (f"{BASE}/project/1", "1", "TEST")
    assert_user(project["lead"], "alice", "Alice A")
    carol = (await seeded.call("GET", "/user?username=CAROL&expand=")).json()
    groups = carol.pop("groups")
    assert_user(carol, "carol", "Carol C")
    assert groups == {"size": 2, "items": [{"name": "developers"}, {"name": "jira-users"}]}


async def test_issue(seeded: JiraApi) -> None:
    issue = (await seeded.call("GET", "/issue/TEST-1")).json()
    assert set(issue) == {"expand", "id", "key", "self", "fields"}
    assert (issue["id"], issue["key"], issue["self"]) == ("1", "TEST-1", f"{BASE}/issue/1")
    fields = issue["fields"]
    assert set(fields) == {
        "summary",
        "description",
        "issuetype",
        "project",
        "status",
        "priority",
        "assignee",
        "reporter",
        "creator",
        "created",
        "updated",
        "labels",
        "resolution",
        "resolutiondate",
        "duedate",
        "comment",
        "worklog",
        "issuelinks",
        "attachment",
        "fixVersions",
        "versions",
        "components",
        "timetracking",
        "timeoriginalestimate",
        "timeestimate",
        "timespent",
        "aggregatetimeoriginalestimate",
        "aggregatetimeestimate",
        "aggregatetimespent",
        "progress",
        "aggregateprogress",
        "workratio",
        "watches",
        "votes",
    }
    assert (fields["fixVersions"], fields["versions"], fields["components"]) == ([], [], [])
    assert fields["watches"] == {
        "self": f"{BASE}/issue/TEST-1/watchers",
        "watchCount": 1,
        "isWatching": True,
    }
    assert fields["votes"] == {"self": f"{BASE}/issue/TEST-1/votes", "votes": 0, "hasVoted": False}
    assert DATE.match(fields["created"])
    assert DATE.match(fields["updated"])
    assert_user(fields["assignee"], "carol", "Carol C")
    assert_user(fields["reporter"], "alice", "Alice A")
    assert fields["worklog"] == {"startAt": 0, "maxResults": 0, "total": 0, "worklogs": []}
    assert (fields["issuelinks"], fields["attachment"], fields["labels"]) == ([], [], ["l"])
    assert fields["status"]["statusCategory"]["key"] == "new"

    navigable = (await seeded.call("GET", "/issue/1?fields=*navigable")).json()["fields"]
    assert "comment" not in navigable
    assert "summary" in navigable
    repeated = (await seeded.call("GET", "/issue/1?fields=summary&fields=status")).json()
    assert set(repeated["fields"]) == {"summary", "status"}
    minus = (await seeded.call("GET", "/issue/1?fields=*all,-comment,-worklog")).json()
    assert {"comment", "worklog"}.isdisjoint(minus["fields"])
    assert "attachment" in minus["fields"]


async def test_comment_and_worklog(seeded: JiraApi) -> None:
    comment = (await seeded.call("POST", "/issue/TEST-1/comment", json={"body": "hello"})).json()
    assert set(comment) == {"self", "id", "author", "body", "updateAuthor", "created", "updated"}
    assert comment["self"] == f"{BASE}/issue/1/comment/{comment['id']}"
    assert DATE.match(comment["created"])
    listing = (await seeded.call("GET", "/issue/TEST-1/comment")).json()
    assert listing == {"startAt": 0, "maxResults": 1, "total": 1, "comments": [comment]}

    worklog = (
        await seeded.call(
            "POST", "/issue/TEST-1/worklog?adjustEstimate=auto", json={"timeSpent": "2d 1h"}
        )
    ).json()
    assert set(worklog) == {
        "self",
        "id",
        "author",
        "updateAuthor",
        "comment",
        "started",
        "timeSpent",
        "timeSpentSeconds",
        "created",
        "updated",
        "issueId",
    }
    assert (worklog["timeSpent"], worklog["timeSpentSeconds"]) == ("2d 1h", 2 * 8 * 3600 + 3600)
    assert worklog["self"] == f"{BASE}/issue/1/worklog/{worklog['id']}"
    assert (await seeded.call("GET", f"/issue/1/worklog/{worklog['id']}")).json() == worklog


async def test_transitions(seeded: JiraApi) -> None:
    body = (await seeded.call("GET", "/issue/TEST-1/transitions?expand=transitions.fields")).json()
    assert body["expand"] == "transitions"
    start, resolve, _close = body["transitions"]
    assert (start["id"], start["name"], start["to"]["name"], start["fields"]) == (
        "4",
        "Start Progress",
        "In Progress",
        {},
    )
    assert resolve["to"]["self"] == f"{BASE}/status/5"
    assert resolve["fields"]["resolution"]["allowedValues"][0]["name"] == "Fixed"
    only = (await seeded.call("GET", "/issue/TEST-1/transitions?transitionId=2")).json()
    assert [t["name"] for t in only["transitions"]] == ["Close Issue"]


async def test_createmeta(seeded: JiraApi) -> None:
    types = (await seeded.call("GET", "/issue/createmeta/TEST/issuetypes?maxResults=2")).json()
    assert (types["startAt"], types["maxResults"], types["total"], types["isLast"]) == (
        0,
        2,
        7,
        False,
    )
    assert [t["name"] for t in types["values"]] == ["Bug", "New Feature"]
    fields = (await seeded.call("GET", "/issue/createmeta/1/issuetypes/3")).json()
    summary = next(f for f in fields["values"] if f["fieldId"] == "summary")
    assert summary == {
        "required": True,
        "schema": {"type": "string", "system": "summary"},
        "name": "Summary",
        "fieldId": "summary",
        "hasDefaultValue": False,
        "operations": ["set"],
    }
    missing = await seeded.call("GET", "/issue/createmeta/NOPE/issuetypes")
    assert missing.status_code == 404


async def test_write_responses(seeded: JiraApi) -> None:
    """204s are empty; creates are 201 with a body (docs/jira-compat.md rule 11)."""
    for method, path, body in (
        ("PUT", "/issue/TEST-1", {"fields": {"summary": "x"}}),
        ("PUT", "/issue/TEST-1/assignee", {"name": "bob"}),
        ("POST", "/issue/TEST-1/transitions", {"transition": {"id": "4"}}),
    ):
        response = await seeded.call(method, path, json=body)
        assert (response.status_code, response.content) == (204, b"")
        assert "content-type" not in response.headers


async def test_latest_alias_trailing_slash_and_401(seeded: JiraApi) -> None:
    """``/rest/api/latest`` is ``/rest/api/2``; trailing slashes are ignored.

    See docs/jira-compat.md §4.1-4.2.
    """
    client = seeded.harness.client
    headers = seeded.tokens("alice")
    latest = await client.get("/rest/api/latest/issue/TEST-1/", headers=headers)
    assert latest.status_code == 200
    assert latest.json()["self"] == f"{BASE}/issue/1"
    assigned = await client.put(
        "/rest/api/latest/issue/TEST-1/assignee", json={"name": "bob"}, headers=headers
    )
    assert assigned.status_code == 204
    anonymous = await client.get("/rest/api/2/issue/TEST-1")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/json;charset=UTF-8"
    assert anonymous.json()["errorMessages"]
