"""Acceptance: custom fields through the documented calls of the real clients, ``jira``
(pycontribs 3.10.5), ``atlassian-python-api`` (5.0.5) and the npm ``jira-client``, on a
loopback server with real JWT access tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from atlassian import Jira
from requests import HTTPError

from jira import JIRA, JIRAError
from tests.jira.conftest import live_jira, run_js_flow
from tests.support.idp import TestProvider

pytestmark = pytest.mark.idp

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"


@pytest.fixture(scope="module")
def server(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_jira(idp, tmp_path_factory.mktemp("customfields")) as base:
        yield base


@pytest.fixture(scope="module")
def alice(server: str, idp: TestProvider) -> Iterator[JIRA]:
    client = JIRA(server=server, token_auth=idp.jwt_token("alice"), max_retries=0)
    client.create_project("CF", "Custom fields")
    yield client
    client.close()


def test_jira_client_custom_fields(alice: JIRA, server: str, idp: TestProvider) -> None:
    atlassian = Jira(url=server, token=idp.jwt_token("alice"), cloud=False)
    colour = atlassian.create_custom_field(
        "Colour", PLUGIN + "select", search_key=PLUGIN + "multiselectsearcher"
    )
    points = atlassian.create_custom_field(
        "Points", PLUGIN + "float", search_key=PLUGIN + "exactnumber", description="Effort"
    )
    assert points["clauseNames"] == [f"cf[{points['schema']['customId']}]", "Points"]
    number = colour["schema"]["customId"]
    admin = atlassian.session
    for value in ("Red", "Green"):
        added = admin.post(
            f"{server}/rest/jiraguard/1/customfield/{number}/option", json={"value": value}
        )
        assert added.status_code == 201, added.text
    plain = alice.create_issue(project="CF", summary="No values", issuetype="Task")
    offered = alice.editmeta(plain)["fields"][colour["id"]]["allowedValues"]
    assert [o["value"] for o in offered] == ["Red", "Green"]
    red_id = next(o["id"] for o in offered if o["value"] == "Red")
    assert alice.custom_field_option(red_id).value == "Red"
    assert atlassian.get_custom_field_option(red_id)["value"] == "Red"

    by_name = {f["name"]: f for f in alice.fields()}
    assert by_name["Points"]["id"] == points["id"]
    assert by_name["Colour"]["schema"]["type"] == "option"
    assert {f["id"] for f in atlassian.get_all_fields()} >= {points["id"], colour["id"]}

    issue = alice.create_issue(
        fields={
            "project": {"key": "CF"},
            "summary": "Painted",
            "issuetype": {"name": "Task"},
            colour["id"]: {"value": "Red"},
            points["id"]: 5,
        }
    )
    assert getattr(issue.fields, points["id"]) == 5.0
    assert getattr(issue.fields, colour["id"]).value == "Red"
    issue.update(fields={colour["id"]: {"value": "Green"}})
    assert getattr(alice.issue(issue.key).fields, colour["id"]).value == "Green"
    atlassian.update_issue_field(issue.key, {points["id"]: 8})
    assert getattr(alice.issue(issue.key).fields, points["id"]) == 8.0

    found = alice.search_issues(f"cf[{number}] = Green")
    assert [i.key for i in found] == [issue.key]
    assert [i.key for i in alice.search_issues('"Points" >= 8')] == [issue.key]
    assert alice.search_issues("Points < 8") == []
    jql = atlassian.jql(f"cf[{points['schema']['customId']}] = 8", fields=points["id"])
    assert [(i["key"], i["fields"][points["id"]]) for i in jql["issues"]] == [(issue.key, 8.0)]

    with pytest.raises(JIRAError) as bad:
        issue.update(fields={points["id"]: "many"})
    assert bad.value.status_code == 400
    assert "Operation value must be a number" in bad.value.text
    with pytest.raises(JIRAError) as unknown:
        alice.search_issues(f"cf[{number}] = Purple")
    assert unknown.value.status_code == 400
    with pytest.raises(HTTPError):
        atlassian.create_custom_field("Broken", PLUGIN + "nosuchtype")
    history = alice.issue(issue.key, expand="changelog").changelog.histories
    logged = [(item.field, item.fieldtype, item.toString) for h in history for item in h.items]
    assert ("Colour", "custom", "Green") in logged
    assert ("Points", "custom", "8") in logged

    bob = JIRA(server=server, token_auth=idp.jwt_token("bob"), max_retries=0)
    try:
        with pytest.raises(JIRAError) as refused:
            bob._session.post(
                f"{server}/rest/api/2/field",
                data=json.dumps({"name": "Mine", "type": PLUGIN + "textfield"}),
            )
        assert refused.value.status_code == 403
    finally:
        bob.close()


def test_js_client_custom_fields(idp: TestProvider, tmp_path: Path) -> None:
    seen = run_js_flow(idp, tmp_path, "custom_fields.mjs")
    ident = seen["field"]["id"]
    assert seen["field"]["name"] == "JS Points"
    assert seen["field"]["schema"]["custom"] == PLUGIN + "float"
    assert seen["listed"] == [ident]
    assert seen["value"] == 13.5
    assert seen["found"] == [["JCF-1", 13.5]]
