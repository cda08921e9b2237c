"""Acceptance: the real ``jira`` client (pycontribs 3.10.5) against jiraguard on a loopback
port, authenticated with real JWT access tokens from the test OpenID provider.

The client is synchronous (requests), so the server runs in a thread (tests/support/live.py).
Each step follows the request sequences of docs/jira-compat.md §8.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from jira.resources import Issue

from jira import JIRA, JIRAError
from tests.jira.conftest import live_jira
from tests.support.idp import TestProvider

pytestmark = pytest.mark.idp


@pytest.fixture(scope="module")
def server(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_jira(idp, tmp_path_factory.mktemp("live")) as base:
        yield base


@pytest.fixture(scope="module")
def alice(server: str, idp: TestProvider) -> Iterator[JIRA]:
    client = JIRA(server=server, token_auth=idp.jwt_token("alice"), max_retries=0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def project(alice: JIRA, server: str) -> str:
    """Posted raw, as some clients do (``jira``'s own ``create_project`` is tested below)."""
    response = alice._session.post(
        f"{server}/rest/api/2/project/",  # trailing slash, as some clients send it
        json={"key": "ACC", "name": "Acceptance", "projectTypeKey": "software", "lead": "alice"},
    )
    assert response.status_code == 201
    assert response.json()["key"] == "ACC"
    return "ACC"


def test_connect_and_myself(alice: JIRA) -> None:
    assert alice.server_info()["deploymentType"] == "Server"
    me = alice.myself()
    assert me["name"] == "alice"
    assert me["displayName"] == "Alice A"
    assert alice.current_user() == "alice"


def test_bad_token_is_refused_at_construction(server: str) -> None:
    with pytest.raises(JIRAError) as raised:
        JIRA(server=server, token_auth="not-a-token", max_retries=0)
    assert raised.value.status_code == 401


def test_create_project(alice: JIRA, server: str, idp: TestProvider) -> None:
    """``create_project(key, name)`` finds the schemes itself, as against Jira Server."""
    assert alice.permissionschemes()[0]["name"] == "Default Permission Scheme"
    assert alice.projectcategories() == []
    created = alice.create_project("CPR", "Created by the client")
    assert created["key"] == "CPR"
    project = alice.project("CPR")
    assert project.name == "Created by the client"
    assert project.lead.name == "alice"
    assert project.assigneeType == "PROJECT_LEAD"

    issue = alice.create_issue(project="CPR", issuetype="Task", summary="Auto", description="a<b")
    assert issue.fields.assignee.name == "alice"  # automatic: the project lead
    alice.assign_issue(issue.key, None)
    assert alice.issue(issue.key).fields.assignee is None
    alice.assign_issue(issue.key, "-1")
    assert alice.issue(issue.key).fields.assignee.name == "alice"
    expanded = alice.issue(issue.key, expand="renderedFields,names,schema")
    assert expanded.renderedFields.description == "<p>a&lt;b</p>"
    assert expanded.names.summary == "Summary"
    assert "comment" in alice.editmeta(issue.key)["fields"]

    bob = JIRA(server=server, token_auth=idp.jwt_token("bob"), max_retries=0)
    try:
        with pytest.raises(JIRAError) as raised:
            bob.create_project("BOBS", "Not an administrator")
        assert raised.value.status_code == 403
    finally:
        bob.close()


def test_validate_and_session(server: str, idp: TestProvider) -> None:
    """``validate=True`` reads ``/rest/auth/1/session`` before anything else."""
    client = JIRA(server=server, token_auth=idp.jwt_token("bob"), validate=True, max_retries=0)
    try:
        assert client.session().name == "bob"
        assert client.kill_session().status_code == 204
        assert client.current_user() == "bob"  # the token still works: there is no session
    finally:
        client.close()
    with pytest.raises(JIRAError) as raised:
        JIRA(server=server, token_auth="not-a-token", validate=True, max_retries=0)
    assert raised.value.status_code == 401


def test_issue_lifecycle(alice: JIRA, project: str) -> None:
    issue = alice.create_issue(
        fields={
            "project": {"key": project},
            "issuetype": {"name": "Bug"},
            "summary": "Printer on fire",
            "description": "Smoke everywhere",
            "labels": ["hardware"],
        }
    )
    assert issue.key == f"{project}-1"
    assert issue.fields.summary == "Printer on fire"
    assert issue.fields.issuetype.name == "Bug"
    assert issue.fields.status.name == "Open"
    assert issue.fields.reporter.name == "alice"

    # create_issue(project=..., issuetype=...) resolves both through /project?expand=issueTypes
    second = alice.create_issue(project=project, issuetype="Task", summary="Second")
    assert second.key == f"{project}-2"
    assert second.fields.issuetype.name == "Task"

    fetched = alice.issue(issue.key, fields="summary,status", expand="changelog")
    assert fetched.id == issue.id
    assert fetched.fields.summary == "Printer on fire"
    assert not hasattr(fetched.fields, "description")

    issue.update(summary="Printer still on fire", fields={"labels": ["hardware", "urgent"]})
    assert issue.fields.summary == "Printer still on fire"
    assert sorted(issue.fields.labels) == ["hardware", "urgent"]
    issue.update(notify=False, description="Extinguished")
    assert alice.issue(issue.key).fields.description == "Extinguished"

    history = alice.issue(issue.key, expand="changelog").changelog.histories
    changed = [(i.field, i.fromString, i.toString) for h in history for i in h.items]
    assert ("summary", "Printer on fire", "Printer still on fire") in changed
    assert ("description", "Smoke everywhere", "Extinguished") in changed


def test_comments(alice: JIRA, project: str) -> None:
    issue = alice.create_issue(project=project, issuetype="Task", summary="Commented")
    comment = alice.add_comment(issue.key, "first!")
    assert comment.body == "first!"
    assert comment.author.name == "alice"

    comment.update(body="edited")
    assert alice.comment(issue.key, comment.id).body == "edited"
    assert [c.body for c in alice.comments(issue.key)] == ["edited"]

    comment.delete()
    assert alice.comments(issue.key) == []


def test_restricted_comments(alice: JIRA, project: str, server: str, idp: TestProvider) -> None:
    """``add_comment(visibility=…)`` as its documentation shows; bob is in no admin group."""
    issue = alice.create_issue(project=project, issuetype="Task", summary="Restricted")
    admins = {"type": "role", "value": "Administrators"}
    secret = alice.add_comment(issue.key, "only admins", visibility=admins)
    assert secret.visibility.type == "role"
    assert secret.visibility.value == "Administrators"
    alice.add_comment(issue.key, "for everyone")
    bob = JIRA(server=server, token_auth=idp.jwt_token("bob"), max_retries=0)
    try:
        assert [c.body for c in bob.comments(issue.key)] == ["for everyone"]
        assert [c.body for c in bob.issue(issue.key).fields.comment.comments] == ["for everyone"]
        assert bob.search_issues(f"project = {project} AND comment ~ admins") == []
        with pytest.raises(JIRAError) as raised:
            bob.comment(issue.key, secret.id)
        assert raised.value.status_code == 404
        with pytest.raises(JIRAError) as refused:
            bob.add_comment(issue.key, "me too", visibility=admins)
        assert refused.value.status_code == 400
    finally:
        bob.close()
    assert len(alice.search_issues(f"project = {project} AND comment ~ admins")) == 1


def test_search_pages_through_results(alice: JIRA, server: str, idp: TestProvider) -> None:
    response = alice._session.post(
        f"{server}/rest/api/2/project", json={"key": "PAGE", "name": "Paging"}
    )
    assert response.status_code == 201
    keys = [
        alice.create_issue(project="PAGE", issuetype="Task", summary=f"item {n}").key
        for n in range(5)
    ]

    first = alice.search_issues("project = PAGE ORDER BY key ASC", maxResults=2)
    assert first.total == 5
    assert [i.key for i in first] == keys[:2]
    third = alice.search_issues("project = PAGE ORDER BY key ASC", startAt=4, maxResults=2)
    assert [i.key for i in third] == keys[4:]

    # maxResults=False: the client loops over pages of its batch size (2) until total
    paging = JIRA(
        server=server,
        token_auth=idp.jwt_token("alice"),
        max_retries=0,
        default_batch_sizes={Issue: 2},
    )
    try:
        everything = paging.search_issues(
            "project = PAGE ORDER BY key ASC", maxResults=False, fields="summary"
        )
        assert [i.key for i in everything] == keys
        assert everything[0].fields.summary == "item 0"
        posted = paging.search_issues("project = PAGE", maxResults=3, use_post=True)
        assert posted.total == 5
        assert len(posted) == 3
    finally:
        paging.close()

    with pytest.raises(JIRAError) as raised:
        alice.search_issues("project = NOPE")
    assert raised.value.status_code == 400


def test_transitions_assign_worklog_and_delete(alice: JIRA, project: str) -> None:
    issue = alice.create_issue(project=project, issuetype="Task", summary="Workflow")
    names = {t["name"] for t in alice.transitions(issue)}
    assert names == {"Start Progress", "Resolve Issue", "Close Issue"}

    alice.transition_issue(issue, "Start Progress")
    assert alice.issue(issue.key).fields.status.name == "In Progress"
    alice.transition_issue(issue, "5", comment="done now")  # by id, with a comment
    resolved = alice.issue(issue.key)
    assert resolved.fields.status.name == "Resolved"
    assert resolved.fields.resolution.name == "Fixed"
    assert resolved.fields.resolutiondate is not None
    assert [c.body for c in alice.comments(issue.key)] == ["done now"]

    assert alice.assign_issue(issue.key, "bob")
    assert alice.issue(issue.key).fields.assignee.name == "bob"
    assert alice.assign_issue(issue.key, None)
    assert alice.issue(issue.key).fields.assignee is None

    worklog = alice.add_worklog(issue.key, timeSpent="1h 30m", comment="fixing")
    assert worklog.timeSpentSeconds == 5400
    logged = alice.worklogs(issue.key)
    assert [(w.timeSpent, w.comment) for w in logged] == [("1h 30m", "fixing")]

    other = alice.create_issue(project=project, issuetype="Task", summary="Blocked one")
    alice.create_issue_link("Blocks", issue.key, other.key)
    links = alice.issue(other.key).fields.issuelinks
    assert [link.type.name for link in links] == ["Blocks"]

    attached = alice.add_attachment(issue.key, io.BytesIO(b"log line\n"), filename="out.log")
    assert attached.filename == "out.log"
    assert attached.size == 9
    assert alice.attachment(attached.id).get() == b"log line\n"

    doomed = alice.issue(other.key)
    doomed.delete()
    with pytest.raises(JIRAError) as raised:
        alice.issue(other.key)
    assert raised.value.status_code == 404
    assert raised.value.text == "Issue Does Not Exist"


def test_metadata_and_users(alice: JIRA, project: str) -> None:
    assert {"Bug", "Task"} <= {t.name for t in alice.issue_types()}
    assert [p.name for p in alice.priorities()][:3] == ["Highest", "High", "Medium"]
    assert "Open" in {s.name for s in alice.statuses()}
    assert any(f["id"] == "summary" and f["clauseNames"] == ["summary"] for f in alice.fields())
    assert project in {p.key for p in alice.projects()}
    assert alice.project(project).name == "Acceptance"
    types = alice.project_issue_types(project)
    assert [t.name for t in types][:2] == ["Bug", "New Feature"]
    assert types.total == 7
    fields = alice.project_issue_fields(project, types[0].id)
    assert {f.fieldId: f.required for f in fields}["summary"] is True
    assert [u.name for u in alice.search_users(user="bo")] == ["bob"]
    assert alice.user("bob").displayName == "Bob B"
    assert "jira-users" in alice.groups()
    assert list(alice.group_members("jira-users")) == ["bob"]


def test_attachment_file_argument(alice: JIRA, project: str, tmp_path: Path) -> None:
    issue = alice.create_issue(project=project, issuetype="Task", summary="Files")
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    attached = alice.add_attachment(issue.key, str(path))
    assert attached.filename == "notes.txt"
    assert [a.filename for a in alice.issue(issue.key).fields.attachment] == ["notes.txt"]


def test_bulk_create_and_editmeta(alice: JIRA, project: str) -> None:
    results = alice.create_issues(
        [
            {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": "bulk one"},
            {"project": {"key": project}, "issuetype": {"name": "Task"}},
            {"project": {"key": project}, "issuetype": {"name": "Bug"}, "summary": "bulk two"},
        ]
    )
    assert [r["status"] for r in results] == ["Success", "Error", "Success"]
    assert results[1]["error"] == {"summary": "You must specify a summary of the issue."}
    assert results[2]["issue"].fields.summary == "bulk two"
    meta = alice.editmeta(results[0]["issue"].key)
    assert meta["fields"]["summary"]["required"] is True
    assert "project" not in meta["fields"]
    assert meta["fields"]["labels"]["operations"] == ["set", "add", "remove"]
