"""Acceptance: ``atlassian-python-api`` (5.0.5, its ``Jira`` Server class) against jiraguard
on a loopback port, with real JWT access tokens, through its documented calls: schemes,
project creation, comment visibility, automatic assignment, expands and long JQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from atlassian import Jira
from requests import HTTPError

from tests.jira.conftest import live_jira
from tests.support.idp import TestProvider

pytestmark = pytest.mark.idp


@pytest.fixture(scope="module")
def server(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_jira(idp, tmp_path_factory.mktemp("atlassian")) as base:
        yield base


def _client(server: str, idp: TestProvider, user: str) -> Jira:
    return Jira(url=server, token=idp.jwt_token(user), cloud=False, backoff_and_retry=False)


def test_flow(server: str, idp: TestProvider) -> None:
    alice, bob = _client(server, idp, "alice"), _client(server, idp, "bob")
    assert alice.myself()["name"] == "alice"
    (scheme,) = alice.get_all_permissionschemes()
    assert alice.get_issue_security_schemes()[0]["name"] == "Default"
    assert alice.get_all_notification_schemes()[0]["id"] == 10000
    assert alice.get_all_project_categories() == []
    alice.create_project_from_raw_json(
        {
            "key": "ATL",
            "name": "Atlassian client",
            "projectTypeKey": "software",
            "lead": "alice",
            "assigneeType": "PROJECT_LEAD",
            "permissionScheme": scheme["id"],
        }
    )
    assert alice.project("ATL", expand="projectKeys")["projectKeys"] == ["ATL"]

    created = alice.issue_create(
        {"project": {"key": "ATL"}, "issuetype": {"name": "Task"}, "summary": "From atlassian"}
    )
    key = created["key"]
    assert alice.issue(key, fields="assignee")["fields"]["assignee"]["name"] == "alice"
    alice.assign_issue(key, "bob")
    alice.assign_issue(key, "-1")  # automatic
    assert alice.issue(key, fields="assignee")["fields"]["assignee"]["name"] == "alice"

    admins = {"type": "role", "value": "Administrators"}
    secret = alice.issue_add_comment(key, "admins only", visibility=admins)
    assert secret["visibility"] == admins
    alice.issue_add_comment(key, "everyone")
    assert [c["body"] for c in bob.issue_get_comments(key)["comments"]] == ["everyone"]
    assert [c["body"] for c in alice.issue_get_comments(key)["comments"]] == [
        "admins only",
        "everyone",
    ]
    assert bob.jql("comment ~ admins")["total"] == 0
    assert alice.jql("comment ~ admins")["total"] == 1

    expanded = alice.issue(key, expand="renderedFields,names")
    assert expanded["names"]["summary"] == "Summary"
    assert "comment" in alice.issue_editmeta(key)["fields"]

    ored = " OR ".join(f"key = ATL-{n}" for n in range(1, 2001))
    assert alice.jql(ored, fields="key")["total"] == 1
    with pytest.raises(HTTPError) as raised:
        alice.jql(" OR ".join(f"summary ~ w{n}" for n in range(1001)))
    assert raised.value.response.status_code == 400
    with pytest.raises(HTTPError) as refused:
        bob.get_all_permissionschemes()
    assert refused.value.response.status_code == 403
