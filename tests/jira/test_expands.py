"""Advertised expands (issue names/schema/editmeta/renderedFields, project projectKeys,
comment renderedBody), editmeta's fields, status category 1 and "automatic" assignment;
on each database."""

from __future__ import annotations

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


async def _lead_project(api: JiraApi) -> None:
    body = {"key": "LEAD", "name": "Led", "lead": "carol", "assigneeType": "PROJECT_LEAD"}
    assert (await api.call("POST", "/project", json=body)).status_code == 201


async def _assignee(api: JiraApi, key: str) -> str | None:
    fields = (await api.call("GET", f"/issue/{key}?fields=assignee")).json()["fields"]
    assignee = fields["assignee"]
    return None if assignee is None else str(assignee["name"])


async def test_no_category_is_listed(api: JiraApi) -> None:
    categories = (await api.call("GET", "/statuscategory")).json()
    assert categories[0] == {
        "self": categories[0]["self"],
        "id": 1,
        "key": "undefined",
        "colorName": "medium-gray",
        "name": "No Category",
    }
    assert (await api.call("GET", "/statuscategory/1")).json() == categories[0]
    await api.project()
    await api.issue("Open")
    search = await api.call("GET", '/search?jql=statusCategory="No Category"')
    assert search.json()["total"] == 0


async def test_automatic_assignment_picks_the_default_assignee(api: JiraApi) -> None:
    await _lead_project(api)
    await api.project()  # UNASSIGNED by default
    led = await api.issue("Led issue", project="LEAD")
    plain = await api.issue("Plain issue")
    assert await _assignee(api, led["key"]) == "carol"  # created without one: automatic
    assert await _assignee(api, plain["key"]) is None
    explicit = await api.issue("Explicit", project="LEAD", assignee={"name": "bob"})
    assert await _assignee(api, explicit["key"]) == "bob"
    for key, automatic in ((led["key"], "carol"), (plain["key"], None)):
        path = f"/issue/{key}/assignee"
        assert (await api.call("PUT", path, json={"name": "dave"})).status_code == 204
        assert (await api.call("PUT", path, json={"name": "-1"})).status_code == 204
        assert await _assignee(api, key) == automatic
        assert (await api.call("PUT", path, json={"name": None})).status_code == 204
        assert await _assignee(api, key) is None
    edit = {"fields": {"assignee": {"name": "-1"}}}
    assert (await api.call("PUT", f"/issue/{led['key']}", json=edit)).status_code == 204
    assert await _assignee(api, led["key"]) == "carol"


async def test_issue_expands(api: JiraApi) -> None:
    await api.project()
    created = await api.issue("Expanded", description="a <b>\nc\n\n*not bold*")
    note = {"body": "see <script>"}
    assert (await api.call("POST", "/issue/TEST-1/comment", json=note)).status_code == 201
    path = f"/issue/{created['key']}?expand=names,schema&expand=editmeta,renderedFields"
    issue = (await api.call("GET", path)).json()
    assert issue["names"]["summary"] == "Summary"
    assert issue["schema"]["labels"] == {"type": "array", "system": "labels", "items": "string"}
    assert set(issue["names"]) == set(issue["fields"]) == set(issue["schema"])
    edit_fields = issue["editmeta"]["fields"]
    assert {"comment", "attachment", "issuelinks", "summary"} <= set(edit_fields)
    assert edit_fields["comment"]["operations"] == ["add", "edit", "remove"]
    rendered = issue["renderedFields"]
    assert rendered["description"] == "<p>a &lt;b&gt;<br/>\nc</p><p>*not bold*</p>"
    (comment,) = rendered["comment"]["comments"]
    assert comment["renderedBody"] == "<p>see &lt;script&gt;</p>"
    assert rendered["created"]
    plain = (await api.call("GET", f"/issue/{created['key']}?fields=summary")).json()
    assert {"names", "schema", "editmeta", "renderedFields"}.isdisjoint(plain)
    narrow = (await api.call("GET", "/issue/TEST-1?fields=summary&expand=names")).json()
    assert narrow["names"] == {"summary": "Summary"}
    searched = await api.call("POST", "/search", json={"jql": "", "expand": ["names"]})
    assert searched.json()["issues"][0]["names"]["status"] == "Status"
    editmeta = (await api.call("GET", "/issue/TEST-1/editmeta")).json()
    assert editmeta == issue["editmeta"]


async def test_project_keys_and_rendered_comment_bodies(api: JiraApi) -> None:
    await api.project()
    await api.issue("Commented")
    project = (await api.call("GET", "/project/TEST?expand=projectKeys")).json()
    assert project["projectKeys"] == ["TEST"]
    assert "projectKeys" not in (await api.call("GET", "/project/TEST")).json()
    listed = (await api.call("GET", "/project?expand=projectKeys,issueTypes")).json()
    assert listed[0]["projectKeys"] == ["TEST"]
    assert listed[0]["issueTypes"]
    created = await api.call(
        "POST", "/issue/TEST-1/comment?expand=renderedBody", json={"body": "x"}
    )
    assert created.json()["renderedBody"] == "<p>x</p>"
    page = (await api.call("GET", "/issue/TEST-1/comment?expand=renderedBody")).json()
    assert page["comments"][0]["renderedBody"] == "<p>x</p>"
    one = await api.call("GET", f"/issue/TEST-1/comment/{created.json()['id']}")
    assert "renderedBody" not in one.json()
