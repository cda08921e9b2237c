"""Acceptance: versions and components through the documented calls of the real clients,
``jira`` (pycontribs 3.10.5) and ``atlassian-python-api`` (5.0.5), on a loopback server with
real JWT access tokens."""

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
    with live_jira(idp, tmp_path_factory.mktemp("versions")) as base:
        yield base


@pytest.fixture(scope="module")
def alice(server: str, idp: TestProvider) -> Iterator[JIRA]:
    client = JIRA(server=server, token_auth=idp.jwt_token("alice"), max_retries=0)
    client.create_project("REL", "Releases")
    yield client
    client.close()


def test_jira_client_versions(alice: JIRA, server: str, idp: TestProvider) -> None:
    made = alice.create_version("1.0", "REL", description="First", releaseDate="2030-01-02")
    assert (made.name, made.description, made.releaseDate) == ("1.0", "First", "2030-01-02")
    assert made.released is False
    assert made.archived is False
    alice.create_version("2.0", "REL", startDate="2030-02-01", released=True)
    assert [v.name for v in alice.project_versions("REL")] == ["1.0", "2.0"]
    assert alice.get_project_version_by_name("REL", "2.0").released is True
    assert alice.version(made.id).userReleaseDate == "2/Jan/30"

    alice.rename_version("REL", "1.0", "1.0.1")
    fetched = alice.version(made.id)
    assert fetched.name == "1.0.1"
    fetched.update(archived=True)
    assert fetched.archived is True
    assert alice.version(made.id).archived is True

    with pytest.raises(JIRAError) as raised:
        alice.create_version("2.0", "REL")
    assert raised.value.status_code == 400
    assert "already exists" in raised.value.text

    bob = JIRA(server=server, token_auth=idp.jwt_token("bob"), max_retries=0)
    try:
        assert [v.name for v in bob.project_versions("REL")] == ["1.0.1", "2.0"]
        with pytest.raises(JIRAError) as refused:
            bob.create_version("3.0", "REL")
        assert refused.value.status_code == 403
    finally:
        bob.close()

    fetched.delete()
    assert [v.name for v in alice.project_versions("REL")] == ["2.0"]
    with pytest.raises(JIRAError) as gone:
        alice.version(made.id)
    assert gone.value.status_code == 404


def test_jira_client_components(alice: JIRA) -> None:
    made = alice.create_component(
        "Backend", "REL", description="Servers", leadUserName="alice", assigneeType="COMPONENT_LEAD"
    )
    assert (made.name, made.description, made.lead.name) == ("Backend", "Servers", "alice")
    assert made.realAssignee.name == "alice"
    alice.create_component("API", "REL")
    assert [c.name for c in alice.project_components("REL")] == ["API", "Backend"]
    assert alice.component(made.id).project == "REL"
    alice.component(made.id).update(name="Back end")
    assert alice.component(made.id).name == "Back end"
    alice.delete_component(made.id)
    assert [c.name for c in alice.project_components("REL")] == ["API"]


def test_jira_client_issue_fields_and_jql(alice: JIRA) -> None:
    alice.create_version("7.0", "REL")
    alice.create_version("7.1", "REL")
    alice.create_component("Docs", "REL")
    issue = alice.create_issue(
        project="REL",
        issuetype="Task",
        summary="Versioned",
        fixVersions=[{"name": "7.0"}],
        components=[{"name": "Docs"}],
    )
    assert [v.name for v in alice.issue(issue.key).fields.fixVersions] == ["7.0"]
    issue.update(fields={"fixVersions": [{"name": "7.1"}], "versions": [{"name": "7.0"}]})
    fetched = alice.issue(issue.key)
    assert [v.name for v in fetched.fields.fixVersions] == ["7.1"]
    assert [v.name for v in fetched.fields.versions] == ["7.0"]
    assert [c.name for c in fetched.fields.components] == ["Docs"]
    issue.update(update={"components": [{"remove": {"name": "Docs"}}]})
    assert alice.issue(issue.key).fields.components == []
    assert [i.key for i in alice.search_issues('fixVersion = "7.1"')] == [issue.key]
    assert [i.key for i in alice.search_issues("affectedVersion in (7.0, 7.1)")] == [issue.key]
    with pytest.raises(JIRAError) as unknown:
        alice.search_issues("affectedVersion in (7.0, 9.9)")
    assert unknown.value.status_code == 400
    assert "The value '9.9' does not exist for the field 'affectedVersion'." in unknown.value.text
    assert issue.key not in [
        i.key for i in alice.search_issues("project = REL AND fixVersion is EMPTY")
    ]
    meta = alice.editmeta(issue.key)["fields"]
    assert [v["name"] for v in meta["fixVersions"]["allowedValues"]][-2:] == ["7.0", "7.1"]


def test_atlassian_client(server: str, idp: TestProvider, alice: JIRA) -> None:
    jira = Jira(url=server, token=idp.jwt_token("alice"), cloud=False, backoff_and_retry=False)
    made = jira.add_version("REL", None, "5.0")
    assert made["name"] == "5.0"
    jira.update_version(
        made["id"], description="Five", release_date="2031-04-11T15:22:00.000+10:00"
    )
    fetched = jira.get_version(made["id"])
    assert (fetched["description"], fetched["releaseDate"]) == ("Five", "2031-04-11")
    assert "5.0" in [v["name"] for v in jira.get_project_versions("REL")]
    jira.delete_version(made["id"])
    assert "5.0" not in [v["name"] for v in jira.get_project_versions("REL")]

    component = jira.create_component({"name": "UI", "project": "REL", "leadUserName": "bob"})
    assert component is not None
    assert component["lead"]["name"] == "bob"
    jira.update_component({"description": "Screens"}, component["id"])
    assert jira.component(component["id"])["description"] == "Screens"
    assert "UI" in [c["name"] for c in jira.get_project_components("REL")]
    jira.delete_component(component["id"])
    with pytest.raises(HTTPError):
        jira.component(component["id"])
