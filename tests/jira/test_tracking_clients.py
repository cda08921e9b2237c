"""Acceptance: time tracking, filters and the version calls through the documented calls of
the real clients, ``jira`` (pycontribs 3.10.5) and ``atlassian-python-api`` (5.0.5), on a
loopback server with real JWT access tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from atlassian import Jira
from requests import HTTPError

from jira import JIRA, JIRAError
from tests.jira.conftest import live_jira
from tests.support.idp import TestProvider

pytestmark = pytest.mark.idp

HOUR = 3600


@pytest.fixture(scope="module")
def server(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_jira(idp, tmp_path_factory.mktemp("tracking")) as base:
        yield base


@pytest.fixture(scope="module")
def alice(server: str, idp: TestProvider) -> Iterator[JIRA]:
    client = JIRA(server=server, token_auth=idp.jwt_token("alice"), max_retries=0)
    client.create_project("TT", "Time tracked")
    yield client
    client.close()


@pytest.fixture(scope="module")
def atlassian(server: str, idp: TestProvider) -> Jira:
    return Jira(url=server, token=idp.jwt_token("alice"), cloud=False, backoff_and_retry=False)


def test_jira_client_time_tracking(alice: JIRA) -> None:
    issue = alice.create_issue(
        project="TT", issuetype="Task", summary="Tracked", timetracking={"originalEstimate": "2d"}
    )
    assert alice.issue(issue.key).fields.timetracking.remainingEstimate == "2d"
    issue.update(fields={"timetracking": {"originalEstimate": "1d", "remainingEstimate": "6h"}})
    fetched = alice.issue(issue.key)
    assert (fetched.fields.timeoriginalestimate, fetched.fields.timeestimate) == (
        8 * HOUR,
        6 * HOUR,
    )
    worklog = alice.add_worklog(issue, timeSpent="2h", adjustEstimate="new", newEstimate="5h")
    assert alice.issue(issue.key).fields.timetracking.remainingEstimate == "5h"
    alice.add_worklog(issue.key, timeSpent="1h", adjustEstimate="manual", reduceBy="30m")
    assert alice.issue(issue.key).fields.timeestimate == 4 * HOUR + 30 * 60
    alice.add_worklog(issue.key, timeSpentSeconds="1800")  # auto
    fetched = alice.issue(issue.key)
    assert (fetched.fields.timeestimate, fetched.fields.timespent) == (4 * HOUR, 3.5 * HOUR)
    assert fetched.fields.progress.percent == 3.5 * 100 // 7.5
    worklog.delete(adjustEstimate="manual", increaseBy="1h")
    assert alice.issue(issue.key).fields.timeestimate == 5 * HOUR
    with pytest.raises(JIRAError) as refused:
        alice.add_worklog(issue.key, timeSpent="1h", adjustEstimate="new")
    assert refused.value.status_code == 400
    assert "You must supply a valid new estimate." in refused.value.text
    with pytest.raises(JIRAError) as invalid:
        issue.update(fields={"timetracking": {"originalEstimate": "a while"}})
    assert invalid.value.status_code == 400
    assert "The original estimate specified is not valid." in invalid.value.text
    found = alice.search_issues("project = TT AND timeSpent > 1h AND remainingEstimate <= 5h")
    assert [i.key for i in found] == [issue.key]
    assert alice.search_issues("project = TT AND originalEstimate is EMPTY") == []


def test_jira_client_filters(alice: JIRA) -> None:
    first = alice.create_issue(project="TT", issuetype="Task", summary="Filtered", labels=["f"])
    made = alice.create_filter(
        name="Labelled f", jql="labels = f", description="Mine", favourite=True
    )
    fetched = alice.filter(made.id)
    assert (fetched.name, fetched.jql, fetched.description) == ("Labelled f", "labels = f", "Mine")
    assert fetched.owner.name == "alice"
    assert [f.name for f in alice.favourite_filters()] == ["Labelled f"]
    assert [i.key for i in alice.search_issues(f"filter={made.id}")] == [first.key]
    assert [i.key for i in alice.search_issues('filter="Labelled f"')] == [first.key]
    updated = alice.update_filter(made.id, jql="labels = f AND project = TT", name="TT f")
    assert (updated.name, updated.jql, updated.favourite) == (
        "TT f",
        "labels = f AND project = TT",
        True,
    )
    with pytest.raises(JIRAError) as taken:
        alice.create_filter(name="tt F", jql="")
    assert taken.value.status_code == 400
    assert "Filter with same name already exists." in taken.value.text
    with pytest.raises(JIRAError) as bad:
        alice.create_filter(name="Broken", jql="labels = ")
    assert bad.value.status_code == 400
    assert "Error in the JQL Query" in bad.value.text
    with pytest.raises(JIRAError) as missing:
        alice.filter("999999")
    assert missing.value.status_code == 400


def test_jira_client_versions(alice: JIRA) -> None:
    one = alice.create_version("1.0", "TT", released=True)
    two = alice.create_version("2.0", "TT")
    alice.create_version("3.0", "TT")
    moved = alice.move_version(two.id, position="First")
    assert moved.name == "2.0"
    assert [v.name for v in alice.project_versions("TT")] == ["2.0", "1.0", "3.0"]
    alice.move_version(two.id, after=one.self)
    assert [v.name for v in alice.project_versions("TT")] == ["1.0", "2.0", "3.0"]
    fixed = alice.create_issue(
        project="TT", issuetype="Task", summary="Fixed", fixVersions=[{"name": "1.0"}]
    )
    alice.create_issue(project="TT", issuetype="Task", summary="Hit", versions=[{"name": "1.0"}])
    assert alice.version_count_related_issues(one.id) == {
        "issuesFixedCount": 1,
        "issuesAffectedCount": 1,
        "issueCountWithCustomFieldsShowingVersion": 0,
    }
    assert alice.version_count_unresolved_issues(one.id) == 1
    found = alice.search_issues("fixVersion in releasedVersions(TT)")
    assert [i.key for i in found] == [fixed.key]
    assert alice.search_issues("fixVersion = earliestUnreleasedVersion(TT)") == []
    with pytest.raises(JIRAError) as unknown:
        alice.search_issues('fixVersion = "nope"')
    assert unknown.value.status_code == 400
    assert "The value 'nope' does not exist for the field 'fixVersion'." in unknown.value.text


def test_atlassian_client(atlassian: Jira, alice: JIRA) -> None:
    made = atlassian.create_filter("From atlassian", "project = TT", favourite=True)
    assert made["favourite"] is True
    assert atlassian.get_filter(made["id"])["jql"] == "project = TT"
    atlassian.update_filter(made["id"], "project = TT ORDER BY key", description="Sorted")
    atlassian.edit_filter(made["id"], "Renamed")
    fetched = atlassian.get_filter(made["id"])
    assert (fetched["name"], fetched["jql"], fetched["description"]) == (
        "Renamed",
        "project = TT ORDER BY key",
        "Sorted",
    )
    atlassian.delete_filter(made["id"])
    with pytest.raises(HTTPError):
        atlassian.get_filter(made["id"])

    issue = alice.create_issue(
        project="TT", issuetype="Task", summary="Logged", timetracking={"originalEstimate": "4h"}
    )
    atlassian.issue_worklog(issue.key, "2030-01-02T10:00:00.000+0000", 3600, comment="an hour")
    assert alice.issue(issue.key).fields.timeestimate == 3 * HOUR
    logged = atlassian.issue_get_worklog(issue.key)
    assert [w["timeSpentSeconds"] for w in logged["worklogs"]] == [3600]

    version = atlassian.add_version("TT", None, "9.0")
    atlassian.move_version(version["id"], position="first")
    assert atlassian.get_project_versions("TT")[0]["name"] == "9.0"
    atlassian.move_version(version["id"], position="Last")
    assert atlassian.get_project_versions("TT")[-1]["name"] == "9.0"
