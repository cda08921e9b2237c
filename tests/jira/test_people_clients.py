"""Acceptance: users, groups, permissions, roles, statuses and application properties
through the documented calls of the real clients, ``jira`` (pycontribs 3.10.5) and
``atlassian-python-api`` (5.0.5), on a loopback server with real JWT access tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from atlassian import Jira
from requests import HTTPError

from jira import JIRA, JIRAError
from tests.jira.conftest import live_jira
from tests.support.idp import TestProvider

pytestmark = pytest.mark.idp


@pytest.fixture(scope="module")
def server(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_jira(idp, tmp_path_factory.mktemp("people")) as base:
        yield base


@pytest.fixture(scope="module")
def alice(server: str, idp: TestProvider) -> Iterator[JIRA]:
    client = JIRA(server=server, token_auth=idp.jwt_token("alice"), max_retries=0)
    client.create_project("PPL", "People")
    client.create_issue(project="PPL", issuetype="Task", summary="First")
    yield client
    client.close()


@pytest.fixture(scope="module")
def bob(server: str, idp: TestProvider, alice: JIRA) -> Iterator[JIRA]:
    client = JIRA(server=server, token_auth=idp.jwt_token("bob"), max_retries=0)
    yield client
    client.close()


def _names(users: list[object]) -> list[str]:
    return [str(getattr(u, "name", "")) for u in users]


def test_jira_client_users_and_groups(alice: JIRA, bob: JIRA) -> None:
    assert alice.add_user("carl", "carl@example.com", fullname="Carl C", password="unused")
    assert alice.user("carl").displayName == "Carl C"
    with pytest.raises(JIRAError) as taken:
        alice.add_user("Carl", "carl@example.com")
    assert taken.value.status_code == 400
    assert "A user with that username already exists." in taken.value.text
    assert alice.add_user("carl", "carl@example.com", ignore_existing=True)
    with pytest.raises(JIRAError) as refused:
        bob.add_user("zoe", "zoe@example.com")
    assert refused.value.status_code == 403

    assert alice.add_group("reviewers")
    assert "reviewers" in alice.groups()
    assert alice.groups(query="review") == ["reviewers"]
    added = alice.add_user_to_group("carl", "reviewers")
    assert isinstance(added, dict)
    assert added["name"] == "reviewers"
    assert list(alice.group_members("reviewers")) == ["carl"]
    assert alice.group_members("reviewers")["carl"]["fullname"] == "Carl C"
    assert alice.remove_user_from_group("carl", "reviewers")
    assert list(alice.group_members("reviewers")) == []
    assert alice.remove_group("reviewers")
    assert "reviewers" not in alice.groups()
    with pytest.raises(JIRAError) as not_admin:
        bob.add_group("mine")
    assert not_admin.value.status_code == 403

    assert alice.delete_user("carl")
    with pytest.raises(JIRAError) as gone:
        alice.user("carl")
    assert gone.value.status_code == 404


def test_jira_client_user_searches(alice: JIRA) -> None:
    assert _names(alice.search_assignable_users_for_projects("", "PPL")) == ["alice", "bob"]
    assert _names(alice.search_assignable_users_for_issues("b", project="PPL")) == ["bob"]
    assert _names(alice.search_assignable_users_for_issues("a", issueKey="PPL-1")) == ["alice"]
    allowed = alice.search_allowed_users_for_issue("", issueKey="PPL-1")
    assert _names(allowed) == ["alice", "bob"]
    assert _names(alice.search_allowed_users_for_issue("b", projectKey="PPL")) == ["bob"]
    with pytest.raises(JIRAError) as unknown:
        alice.search_assignable_users_for_issues("a", project="NOPE")
    assert unknown.value.status_code == 404


def test_jira_client_permissions_roles_statuses(alice: JIRA, bob: JIRA) -> None:
    mine = alice.my_permissions(projectKey="PPL")["permissions"]
    theirs = bob.my_permissions(issueKey="PPL-1")["permissions"]
    assert mine["ADMINISTER_PROJECTS"]["havePermission"] is True
    assert theirs["ADMINISTER_PROJECTS"]["havePermission"] is False
    assert theirs["BROWSE_PROJECTS"]["havePermission"] is True
    chosen = bob.my_permissions(permissions="EDIT_ISSUES,ADMINISTER")["permissions"]
    assert {k: v["havePermission"] for k, v in chosen.items()} == {
        "EDIT_ISSUES": True,
        "ADMINISTER": False,
    }

    roles = alice.project_roles("PPL")
    assert {name: role["id"] for name, role in roles.items()} == {
        "Administrators": "10002",
        "Developers": "10001",
        "Users": "10000",
    }
    admins = alice.project_role("PPL", roles["Administrators"]["id"])
    assert admins.name == "Administrators"
    assert [a.name for a in admins.actors] == ["jira-administrators"]

    assert [s.name for s in alice.statuses()][:2] == ["Open", "In Progress"]
    assert alice.status("5").name == "Resolved"
    assert [c.key for c in alice.statuscategories()] == [
        "undefined",
        "new",
        "indeterminate",
        "done",
    ]
    types = alice.issue_types_for_project("PPL")
    assert [s.name for s in types[0].statuses] == [s.name for s in alice.statuses()]


def test_jira_client_application_properties(alice: JIRA, bob: JIRA) -> None:
    title = alice.application_properties(key="jira.title")
    assert isinstance(title, dict)
    assert title["value"] == "Jira"
    every = alice.application_properties()
    assert isinstance(every, list)
    assert "jira.baseurl" in [p["key"] for p in every]
    alice.set_application_property("jira.clone.prefix", "COPY -")
    assert bob.application_properties(key="jira.clone.prefix")["value"] == "COPY -"  # type: ignore[index]
    with pytest.raises(JIRAError) as refused:
        bob.set_application_property("jira.clone.prefix", "X")
    assert refused.value.status_code == 403


def test_atlassian_client(server: str, idp: TestProvider, alice: JIRA) -> None:
    jira = Jira(url=server, token=idp.jwt_token("alice"), cloud=False, backoff_and_retry=False)
    made = jira.user_create("dora", "dora@example.com", "Dora D")
    assert made["name"] == "dora"
    with pytest.raises(HTTPError):
        jira.user_create("dora", "dora@example.com", "Dora D")
    jira.user_update_email("dora", "dora@elsewhere.example")
    assert jira.user("dora")["emailAddress"] == "dora@elsewhere.example"
    assert jira.create_group("editors")["name"] == "editors"
    assert jira.add_user_to_group(username="dora", group_name="editors")["name"] == "editors"
    members = jira.get_all_users_from_group("editors")
    assert [u["name"] for u in members["values"]] == ["dora"]
    jira.remove_user_from_group(username="dora", group_name="editors")
    assert jira.get_all_users_from_group("editors")["total"] == 0
    jira.remove_group("editors")
    assert "editors" not in [g["name"] for g in jira.get_groups(query="edit")["groups"]]

    assignable = jira.get_all_assignable_users_for_project("PPL")
    assert "dora" in [u["name"] for u in assignable]
    by_issue = jira.get_assignable_users_for_issue("PPL-1", username="do")
    assert [u["name"] for u in by_issue] == ["dora"]
    browsers = jira.get_users_with_browse_permission_to_a_project("d", project_key="PPL")
    assert [u["name"] for u in browsers] == ["dora"]
    jira.user_remove(username="dora")
    with pytest.raises(HTTPError):
        jira.user("dora")

    assert set(jira.get_project_roles("PPL")) == {"Administrators", "Developers", "Users"}
    actors = jira.get_project_actors_for_role_project("PPL", 10001)
    assert [a["name"] for a in actors] == ["jira-developers"]
    assert [s["name"] for s in jira.get_all_statuses()][-1] == "Closed"
    assert jira.get_status_id_from_name("Reopened") == 4
    per_type = jira.get_status_for_project("PPL")
    assert per_type[0]["statuses"][0]["name"] == "Open"
    permissions = jira.get_permissions("BROWSE_PROJECTS,ADMINISTER", project_key="PPL")
    assert permissions["permissions"]["ADMINISTER"]["havePermission"] is True
    assert jira.get_property(key="jira.title")["value"] == "Jira"
    jira.set_property("jira.title", "People's Jira")
    assert jira.get_property(key="jira.title")["value"] == "People's Jira"
    advanced = jira.get_advanced_settings()
    assert "jira.date.picker.java.format" in [p["key"] for p in advanced]
