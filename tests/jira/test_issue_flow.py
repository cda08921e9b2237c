"""The main flow over plain HTTP on SQLite and PostgreSQL alike: projects, issues, edits,
comments, transitions, assignment, worklogs, links, changelog and deletes."""

from __future__ import annotations

import asyncio

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


async def test_project_crud(api: JiraApi) -> None:
    created = await api.project("CRUD", "Crud")
    project_id = created["id"]
    assert created == {
        "self": f"http://jira.test/rest/api/2/project/{project_id}",
        "id": project_id,
        "key": "CRUD",
    }
    by_id = (await api.call("GET", f"/project/{project_id}")).json()
    by_key = (await api.call("GET", "/project/crud?expand=issueTypes")).json()
    assert by_id["key"] == by_key["key"] == "CRUD"
    assert "issueTypes" not in by_id
    assert [t["name"] for t in by_key["issueTypes"]][:3] == ["Bug", "New Feature", "Task"]
    assert by_key["lead"]["name"] == "alice"

    changed = await api.call(
        "PUT", "/project/CRUD", json={"name": "Renamed", "description": "d", "lead": "carol"}
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["lead"]["name"]) == ("Renamed", "carol")
    listing = (await api.call("GET", "/project")).json()
    assert [(p["key"], p["name"]) for p in listing] == [("CRUD", "Renamed")]

    await api.issue("doomed", project="CRUD")
    await api.call("POST", "/issue/CRUD-1/comment", json={"body": "goes too"})
    deleted = await api.call("DELETE", "/project/CRUD")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await api.call("GET", "/project/CRUD")).status_code == 404
    assert (await api.call("GET", "/issue/CRUD-1")).status_code == 404


async def test_issue_create_get_edit_delete(api: JiraApi) -> None:
    await api.project()
    created = await api.issue(
        "First",
        description="Body",
        priority={"name": "High"},
        assignee={"name": "bob"},
        labels=["one", "two"],
        duedate="2026-12-24",
    )
    assert created["key"] == "TEST-1"
    issue = (await api.call("GET", "/issue/TEST-1")).json()
    fields = issue["fields"]
    assert issue["id"] == created["id"]
    assert issue["self"] == f"http://jira.test/rest/api/2/issue/{created['id']}"
    assert (fields["summary"], fields["description"]) == ("First", "Body")
    assert fields["priority"]["name"] == "High"
    assert fields["assignee"]["name"] == "bob"
    assert fields["reporter"]["name"] == fields["creator"]["name"] == "alice"
    assert fields["labels"] == ["one", "two"]
    assert fields["duedate"] == "2026-12-24"
    assert fields["status"]["name"] == "Open"
    assert fields["resolution"] is None
    assert fields["comment"] == {"startAt": 0, "maxResults": 0, "total": 0, "comments": []}

    edited = await api.call(
        "PUT",
        f"/issue/{created['id']}?notifyUsers=false",
        json={
            "fields": {"summary": "First, edited", "priority": {"id": "4"}},
            "update": {"labels": [{"add": "three"}, {"remove": "one"}]},
            "notifyUsers": "true",  # some clients put it in the body: ignored
        },
        user="carol",
    )
    assert (edited.status_code, edited.content) == (204, b"")
    after = (await api.call("GET", "/issue/test-1?fields=summary,priority,labels")).json()
    assert after["fields"] == {
        "summary": "First, edited",
        "priority": after["fields"]["priority"],
        "labels": ["three", "two"],
    }
    assert after["fields"]["priority"]["name"] == "Low"

    log = (await api.call("GET", "/issue/TEST-1?expand=changelog&fields=*none")).json()
    assert log["fields"] == {}
    (history,) = log["changelog"]["histories"]
    assert history["author"]["name"] == "carol"
    assert [(i["field"], i["fromString"], i["toString"]) for i in history["items"]] == [
        ("summary", "First", "First, edited"),
        ("priority", "High", "Low"),
        ("labels", "one two", "three two"),
    ]

    deleted = await api.call("DELETE", "/issue/TEST-1?deleteSubtasks=False")
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = await api.call("GET", f"/issue/{created['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"errorMessages": ["Issue Does Not Exist"], "errors": {}}
    # keys are never reused, even after a delete
    assert (await api.issue("Second"))["key"] == "TEST-2"


async def test_comments_transitions_assign_worklog_links(api: JiraApi) -> None:
    await api.project()
    first = await api.issue("One")
    second = await api.issue("Two")

    posted = await api.call("POST", "/issue/TEST-1/comment", json={"body": "hi"}, user="carol")
    assert posted.status_code == 201
    comment = posted.json()
    assert comment["self"] == (
        f"http://jira.test/rest/api/2/issue/{first['id']}/comment/{comment['id']}"
    )
    assert comment["author"]["name"] == comment["updateAuthor"]["name"] == "carol"
    await api.call("POST", "/issue/TEST-1/comment", json={"body": "second"})

    page = (await api.call("GET", "/issue/TEST-1/comment?startAt=1&maxResults=1")).json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (1, 1, 2)
    assert [c["body"] for c in page["comments"]] == ["second"]

    path = f"/issue/{first['id']}/comment/{comment['id']}"
    assert (await api.call("PUT", path, json={"body": "no"}, user="dave")).status_code == 403
    assert (await api.call("DELETE", path, user="dave")).status_code == 403
    updated = await api.call("PUT", path, json={"body": "edited"}, user="bob")  # an admin
    assert updated.status_code == 200
    assert (updated.json()["body"], updated.json()["updateAuthor"]["name"]) == ("edited", "bob")
    assert (await api.call("GET", path)).json()["body"] == "edited"
    assert (await api.call("DELETE", path, user="carol")).status_code == 204
    assert (await api.call("GET", path)).status_code == 404

    listed = (await api.call("GET", "/issue/TEST-1/transitions")).json()["transitions"]
    assert [(t["id"], t["name"], t["to"]["name"]) for t in listed] == [
        ("4", "Start Progress", "In Progress"),
        ("5", "Resolve Issue", "Resolved"),
        ("2", "Close Issue", "Closed"),
    ]
    moved = await api.call(
        "POST",
        "/issue/TEST-1/transitions",
        json={
            "transition": {"id": 5},
            "fields": {"resolution": {"name": "Won't Fix"}},
            "update": {"comment": [{"add": {"body": "not worth it"}}]},
        },
    )
    assert (moved.status_code, moved.content) == (204, b"")
    resolved = (await api.call("GET", "/issue/TEST-1")).json()["fields"]
    assert resolved["status"]["name"] == "Resolved"
    assert resolved["resolution"]["name"] == "Won't Fix"
    assert resolved["resolutiondate"] is not None
    assert [c["body"] for c in resolved["comment"]["comments"]] == ["second", "not worth it"]
    reopen = await api.call("POST", "/issue/TEST-1/transitions", json={"transition": {"id": "3"}})
    assert reopen.status_code == 204
    reopened = (await api.call("GET", "/issue/TEST-1?expand=changelog")).json()
    assert reopened["fields"]["status"]["name"] == "Reopened"
    assert (reopened["fields"]["resolution"], reopened["fields"]["resolutiondate"]) == (None, None)
    items = [
        (i["field"], i["fromString"], i["toString"])
        for h in reopened["changelog"]["histories"]
        for i in h["items"]
    ]
    assert items == [
        ("status", "Open", "Resolved"),
        ("resolution", None, "Won't Fix"),
        ("status", "Resolved", "Reopened"),
        ("resolution", "Won't Fix", None),
    ]

    assert (
        await api.call("PUT", "/issue/TEST-2/assignee", json={"name": "carol"})
    ).status_code == 204
    assignee = (await api.call("GET", "/issue/TEST-2?fields=assignee")).json()["fields"]
    assert assignee["assignee"]["name"] == "carol"
    assert (await api.call("PUT", "/issue/TEST-2/assignee", json={"name": None})).status_code == 204
    assert (await api.call("GET", "/issue/TEST-2?fields=assignee")).json()["fields"] == {
        "assignee": None
    }

    logged = await api.call(
        "POST",
        "/issue/TEST-2/worklog",
        json={
            "started": "2026-11-28T12:00:00.000+0000",
            "timeSpentSeconds": 3600,
            "comment": "w",
        },
    )
    assert logged.status_code == 201
    worklog = logged.json()
    assert (worklog["timeSpent"], worklog["started"]) == ("1h", "2026-11-28T12:00:00.000+0000")
    assert worklog["issueId"] == second["id"]
    page = (await api.call("GET", "/issue/TEST-2/worklog")).json()
    assert page["total"] == 1
    assert page["worklogs"][0]["id"] == worklog["id"]
    worklog_path = f"/issue/TEST-2/worklog/{worklog['id']}"
    denied = await api.call("PUT", worklog_path, json={"comment": "mine"}, user="dave")
    assert denied.status_code == 403
    changed = await api.call(
        "PUT", worklog_path, json={"timeSpent": "45m", "comment": "less"}, user="bob"
    )
    assert changed.status_code == 200
    assert (changed.json()["timeSpentSeconds"], changed.json()["comment"]) == (2700, "less")
    assert changed.json()["started"] == "2026-11-28T12:00:00.000+0000"  # kept
    assert changed.json()["updateAuthor"]["name"] == "bob"
    assert (await api.call("DELETE", worklog_path)).status_code == 204
    assert (await api.call("GET", worklog_path)).status_code == 404

    link = await api.call(
        "POST",
        "/issueLink",
        json={
            "type": {"name": "Blocks"},
            "inwardIssue": {"key": "TEST-1"},
            "outwardIssue": {"key": "TEST-2"},
            "comment": None,
        },
    )
    assert link.status_code == 201
    inward = (await api.call("GET", "/issue/TEST-1?fields=issuelinks")).json()
    (seen,) = inward["fields"]["issuelinks"]
    assert (seen["type"]["name"], seen["outwardIssue"]["key"]) == ("Blocks", "TEST-2")
    outward = (await api.call("GET", "/issue/TEST-2?fields=issuelinks&expand=changelog")).json()
    (seen_back,) = outward["fields"]["issuelinks"]
    assert seen_back["inwardIssue"]["key"] == "TEST-1"
    assert outward["changelog"]["histories"][-1]["items"] == [
        {
            "field": "Link",
            "fieldtype": "jira",
            "from": None,
            "fromString": None,
            "to": "TEST-1",
            "toString": "This issue is blocked by TEST-1",
        }
    ]
    link_path = f"/issueLink/{seen['id']}"
    fetched = (await api.call("GET", link_path)).json()
    assert (fetched["inwardIssue"]["key"], fetched["outwardIssue"]["key"]) == ("TEST-1", "TEST-2")
    assert (await api.call("DELETE", link_path)).status_code == 204
    unlinked = (await api.call("GET", "/issue/TEST-1?fields=issuelinks&expand=changelog")).json()
    assert unlinked["fields"]["issuelinks"] == []
    last = unlinked["changelog"]["histories"][-1]["items"][0]
    assert (last["fromString"], last["toString"]) == ("This issue blocks TEST-2", None)


async def test_parallel_creates_never_lose_or_reuse_a_key(api: JiraApi) -> None:
    """20 concurrent POST /issue: every one gets its own key, numbered 1..20, none lost."""
    await api.project()
    created = await asyncio.gather(*(api.issue(f"parallel {n}") for n in range(20)))

    keys = [c["key"] for c in created]
    assert len(set(keys)) == 20
    assert sorted(keys, key=lambda k: int(k.split("-")[1])) == [f"TEST-{n}" for n in range(1, 21)]
    for item in created:
        fetched = await api.call("GET", f"/issue/{item['key']}?fields=summary")
        assert fetched.status_code == 200
        assert fetched.json()["id"] == item["id"]


async def test_parallel_project_creates_with_one_key(api: JiraApi) -> None:
    """Racing creates of one key: exactly one wins, the others get Jira's 400, never a 500."""
    responses = await asyncio.gather(
        *(api.call("POST", "/project", json={"key": "RACE", "name": f"Race {n}"}) for n in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 400, 400, 400, 400]
    for response in responses:
        if response.status_code == 400:
            assert response.json()["errors"] == {
                "projectKey": "Project 'RACE' uses this project key."
            }
    listing = (await api.call("GET", "/project")).json()
    assert [p["key"] for p in listing] == ["RACE"]
