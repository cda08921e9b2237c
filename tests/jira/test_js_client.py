"""Acceptance: a non-Python client, the npm ``jira-client`` package (tests/jsclient, pinned
by its lock file), through its documented calls against jiraguard on a loopback port with
real JWT access tokens. ``flow.mjs`` prints what the client saw; this test checks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jira.conftest import run_js_flow
from tests.support.idp import TestProvider

pytestmark = pytest.mark.idp


def test_jira_client_flow(idp: TestProvider, tmp_path: Path) -> None:
    seen = run_js_flow(idp, tmp_path, "flow.mjs")
    assert seen["me"] == "alice"
    assert seen["created"]["key"] == "JSC"
    assert seen["key"] == "JSC-1"
    assert seen["automaticOnCreate"] == "alice"
    assert seen["assigned"] == "bob"
    assert seen["automatic"] == "alice"
    assert seen["restricted"]["visibility"] == {"type": "role", "value": "Administrators"}
    assert seen["aliceComments"] == ["admins only", "everyone"]
    assert seen["bobComments"] == ["everyone"]
    assert seen["bobIssueComments"] == ["everyone"]
    assert (seen["bobFinds"], seen["aliceFinds"]) == (0, 1)
    assert seen["twoThousandKeys"] == 1
    # This client loses the status and keeps Jira's error body, so the body is what it sees.
    assert seen["tooLarge"]["errorMessages"][0].startswith("The JQL query is too large")
    assert "not a member of the project role" in seen["badVisibility"]["errors"]["commentLevel"]
    assert "summary" in seen["expanded"]
    # user administration, groups, statuses, roles and permissions
    assert seen["createdUser"] == "jsuser"
    assert seen["duplicateUser"]["errors"] == {
        "username": "A user with that username already exists."
    }
    assert seen["refusedUser"]["errorMessages"] == [
        "You are not authorized to perform this action. Administrator privileges are required."
    ]
    assert seen["groupMembers"] == ["bob"]
    assert seen["statuses"] == ["Open", "In Progress", "Reopened", "Resolved", "Closed"]
    assert set(seen["projectStatuses"]) == {5}
    assert seen["roles"] == ["Administrators", "Developers", "Users"]
    assert "ADMINISTER" in seen["alicePermissions"]
    assert "ADMINISTER" not in seen["bobPermissions"]
    assert "EDIT_ISSUES" in seen["bobPermissions"]
    assert seen["versionOrder"] == ["JS-2", "JS-1"]
    assert seen["remainingAfterNew"] == "3h"
    assert seen["times"] == [8 * 3600, 2 * 3600, 3 * 3600]
    assert seen["watchers"] == ["alice", "bob"]
    assert seen["remoteLinks"] == [[True, "From JS"]]
    assert seen["remoteLinksAfter"] == 0
    assert seen["property"] == {"key": "js", "value": {"from": "fetch"}}
