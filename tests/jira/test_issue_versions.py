"""``fixVersions``, ``versions`` and ``components`` on issues over plain HTTP: read in
``fields``, set on create and edit, ``update`` operations, editmeta and the changelog."""

from __future__ import annotations

from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

BASE = "http://jira.test/rest/api/2"


@pytest.fixture
async def items(api: JiraApi) -> dict[str, dict[str, Any]]:
    await api.project()
    made: dict[str, dict[str, Any]] = {}
    for name, body in (
        ("1.0", {"releaseDate": "2030-01-01", "description": "First"}),
        ("2.0", {}),
    ):
        response = await api.call(
            "POST", "/version", json={"project": "TEST", "name": name, **body}
        )
        assert response.status_code == 201, response.text
        made[name] = response.json()
    for name in ("UI", "API"):
        response = await api.call("POST", "/component", json={"project": "TEST", "name": name})
        assert response.status_code == 201, response.text
        made[name] = response.json()
    return made


async def _fields(api: JiraApi, key: str) -> dict[str, Any]:
    response = await api.call("GET", f"/issue/{key}?fields=fixVersions,versions,components")
    assert response.status_code == 200, response.text
    fields: dict[str, Any] = response.json()["fields"]
    return fields


async def test_set_on_create_and_read(api: JiraApi, items: dict[str, dict[str, Any]]) -> None:
    one, two = items["1.0"], items["2.0"]
    created = await api.issue(
        "With versions",
        fixVersions=[{"name": "2.0"}, {"id": one["id"]}],
        versions=[{"id": int(two["id"])}],
        components=[{"name": "ui"}, {"name": "API"}],
    )
    fields = await _fields(api, created["key"])
    assert fields == {
        "fixVersions": [
            {
                "self": f"{BASE}/version/{one['id']}",
                "id": one["id"],
                "description": "First",
                "name": "1.0",
                "archived": False,
                "released": False,
                "releaseDate": "2030-01-01",
            },
            {
                "self": f"{BASE}/version/{two['id']}",
                "id": two["id"],
                "name": "2.0",
                "archived": False,
                "released": False,
            },
        ],
        "versions": [fields["fixVersions"][1]],
        "components": [
            {"self": f"{BASE}/component/{c['id']}", "id": c["id"], "name": c["name"]}
            for c in (items["API"], items["UI"])
        ],
    }
    bare = await api.issue("Without")
    everything = (await api.call("GET", f"/issue/{bare['key']}")).json()["fields"]
    assert (everything["fixVersions"], everything["versions"], everything["components"]) == (
        [],
        [],
        [],
    )
    found = (await api.call("GET", "/search?jql=project=TEST&fields=fixVersions")).json()
    assert {i["key"]: len(i["fields"]["fixVersions"]) for i in found["issues"]} == {
        created["key"]: 2,
        bare["key"]: 0,
    }


async def test_update_operations(api: JiraApi, items: dict[str, dict[str, Any]]) -> None:
    key = (await api.issue("Edited"))["key"]
    response = await api.call(
        "PUT",
        f"/issue/{key}",
        json={
            "update": {
                "fixVersions": [{"add": {"name": "1.0"}}, {"add": {"name": "2.0"}}],
                "components": [{"set": [{"name": "UI"}]}],
            }
        },
    )
    assert response.status_code == 204, response.text
    fields = await _fields(api, key)
    assert [v["name"] for v in fields["fixVersions"]] == ["1.0", "2.0"]
    assert [c["name"] for c in fields["components"]] == ["UI"]
    response = await api.call(
        "PUT",
        f"/issue/{key}",
        json={
            "update": {
                "fixVersions": [{"remove": {"id": items["1.0"]["id"]}}],
                "versions": [{"add": {"name": "1.0"}}],
                "components": [{"add": {"name": "API"}}, {"remove": {"name": "UI"}}],
            }
        },
    )
    assert response.status_code == 204, response.text
    fields = await _fields(api, key)
    assert [v["name"] for v in fields["fixVersions"]] == ["2.0"]
    assert [v["name"] for v in fields["versions"]] == ["1.0"]
    assert [c["name"] for c in fields["components"]] == ["API"]
    response = await api.call("PUT", f"/issue/{key}", json={"fields": {"fixVersions": []}})
    assert response.status_code == 204
    assert (await _fields(api, key))["fixVersions"] == []

    history = (await api.call("GET", f"/issue/{key}?expand=changelog")).json()["changelog"]
    items_logged = [i for h in history["histories"] for i in h["items"]]
    assert {
        "field": "Fix Version",
        "fieldtype": "jira",
        "from": None,
        "fromString": None,
        "to": f"{items['1.0']['id']}, {items['2.0']['id']}",
        "toString": "1.0, 2.0",
    } in items_logged
    assert [i["toString"] for i in items_logged if i["field"] == "Component"] == ["UI", "API"]


async def test_deleting_a_version_moves_or_drops_it(
    api: JiraApi, items: dict[str, dict[str, Any]]
) -> None:
    key = (await api.issue("Moved", fixVersions=[{"name": "1.0"}], versions=[{"name": "1.0"}]))[
        "key"
    ]
    one, two = items["1.0"]["id"], items["2.0"]["id"]
    response = await api.call("DELETE", f"/version/{one}?moveFixIssuesTo={two}")
    assert response.status_code == 204, response.text
    fields = await _fields(api, key)
    assert [v["name"] for v in fields["fixVersions"]] == ["2.0"]
    assert fields["versions"] == []
    key2 = (await api.issue("Dropped", components=[{"name": "UI"}]))["key"]
    ui, api_id = items["UI"]["id"], items["API"]["id"]
    response = await api.call("DELETE", f"/component/{ui}?moveIssuesTo={api_id}")
    assert response.status_code == 204
    assert [c["name"] for c in (await _fields(api, key2))["components"]] == ["API"]
    response = await api.call("DELETE", f"/component/{api_id}?moveIssuesTo=999")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"fixVersions": [{"name": "9.9"}]}, {"fixVersions": "Version name '9.9' is not valid"}),
        ({"versions": [{"id": "999999"}]}, {"versions": "Version id '999999' is not valid"}),
        ({"components": [{"name": "Nope"}]}, {"components": "Component name 'Nope' is not valid"}),
        (
            {"components": {"name": "UI"}},
            {"components": "The value of 'components' must be a list of objects."},
        ),
        (
            {"fixVersions": ["1.0"]},
            {"fixVersions": 'Expected an object like {"name": "…"} for a version.'},
        ),
        (
            {"fixVersions": [{}]},
            {"fixVersions": "Could not find valid 'id' or 'name' in version object."},
        ),
    ],
)
async def test_bad_values_are_400(
    api: JiraApi, items: dict[str, dict[str, Any]], fields: dict[str, Any], errors: dict[str, str]
) -> None:
    body = {"fields": {"project": {"key": "TEST"}, "issuetype": {"name": "Task"}, "summary": "s"}}
    body["fields"].update(fields)
    response = await api.call("POST", "/issue", json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"errorMessages": [], "errors": errors}
    key = (await api.issue("Target"))["key"]
    response = await api.call("PUT", f"/issue/{key}", json={"fields": fields})
    assert response.status_code == 400
    assert response.json()["errors"] == errors


async def test_versions_of_another_project_are_refused(
    api: JiraApi, items: dict[str, dict[str, Any]]
) -> None:
    await api.project("OTHER", "Other")
    key = (await api.issue("Elsewhere", project="OTHER"))["key"]
    response = await api.call(
        "PUT", f"/issue/{key}", json={"fields": {"fixVersions": [{"id": items["1.0"]["id"]}]}}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "fixVersions": f"Version id '{items['1.0']['id']}' is not valid"
    }


async def test_editmeta_and_createmeta(api: JiraApi, items: dict[str, dict[str, Any]]) -> None:
    key = (await api.issue("Meta"))["key"]
    meta = (await api.call("GET", f"/issue/{key}/editmeta")).json()["fields"]
    assert meta["fixVersions"]["operations"] == ["set", "add", "remove"]
    assert meta["fixVersions"]["schema"] == {
        "type": "array",
        "items": "version",
        "system": "fixVersions",
    }
    assert meta["fixVersions"]["name"] == "Fix Version/s"
    assert [v["name"] for v in meta["versions"]["allowedValues"]] == ["1.0", "2.0"]
    assert [c["name"] for c in meta["components"]["allowedValues"]] == ["API", "UI"]
    expanded = (await api.call("GET", f"/issue/{key}?expand=editmeta&fields=summary")).json()
    assert expanded["editmeta"]["fields"] == meta
    create = (await api.call("GET", "/issue/createmeta/TEST/issuetypes/3")).json()["values"]
    by_id = {f["fieldId"]: f for f in create}
    assert by_id["components"]["allowedValues"] == meta["components"]["allowedValues"]
    listed = {f["id"]: f for f in (await api.call("GET", "/field")).json()}
    assert listed["fixVersions"]["clauseNames"] == ["fixVersion"]
    assert listed["versions"]["clauseNames"] == ["affectedVersion"]
    assert listed["components"]["clauseNames"] == ["component"]


async def test_jql(api: JiraApi, items: dict[str, dict[str, Any]]) -> None:
    one = await api.issue("One", fixVersions=[{"name": "1.0"}], components=[{"name": "UI"}])
    both = await api.issue(
        "Both", fixVersions=[{"name": "1.0"}, {"name": "2.0"}], versions=[{"name": "2.0"}]
    )
    none = await api.issue("None")

    async def keys(jql: str) -> set[str]:
        response = await api.call("GET", "/search", params={"jql": jql, "fields": "summary"})
        assert response.status_code == 200, (jql, response.text)
        return {i["key"] for i in response.json()["issues"]}

    assert await keys('fixVersion = "1.0"') == {one["key"], both["key"]}
    assert await keys("fixVersion = 2.0") == {both["key"]}
    assert await keys(f"fixVersion = {items['2.0']['id']}") == {both["key"]}
    assert await keys('fixVersion in ("2.0", "1.0")') == {one["key"], both["key"]}
    assert await keys("fixVersion is EMPTY") == {none["key"]}
    assert await keys("fixVersion is not EMPTY") == {one["key"], both["key"]}
    assert await keys('fixVersion != "2.0"') == {one["key"]}
    assert await keys('fixVersion not in ("1.0")') == set()
    assert await keys("fixVersion in (EMPTY, 2.0)") == {none["key"], both["key"]}
    assert await keys("affectedVersion = '2.0'") == {both["key"]}
    assert await keys("component = ui") == {one["key"]}
    assert await keys("component is EMPTY AND fixVersion = 1.0") == {both["key"]}
    for bad, message in (
        ("fixVersion ~ 1.0", "The operator '~' is not supported by the 'fixVersion' field."),
        ("component > 1", "The operator '>' is not supported by the 'component' field."),
        ("fixVersion = nosuch()", "Unable to find JQL function 'nosuch()'."),
        (
            'fixVersion in ("2.0", "9.9")',
            "The value '9.9' does not exist for the field 'fixVersion'.",
        ),
        ("fixVersion = nope", "The value 'nope' does not exist for the field 'fixVersion'."),
        (
            "affectedVersion = 99999",
            "The value '99999' does not exist for the field 'affectedVersion'.",
        ),
        ("component != nope", "The value 'nope' does not exist for the field 'component'."),
        (
            "component = releasedVersions()",
            "A value provided by the function 'releasedVersions' is invalid for the field "
            "'component'.",
        ),
    ):
        response = await api.call("GET", "/search", params={"jql": bad})
        assert response.status_code == 400, bad
        assert response.json()["errorMessages"] == [message]
