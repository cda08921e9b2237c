"""``/filter`` and JQL's ``filter =`` over plain HTTP, on SQLite and PostgreSQL: Jira's
shape, names unique per owner, JQL checked on save, filters private to their owner, and
saved filters in searches (with cycles refused)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

BASE = "http://jira.test/rest/api/2"
NOT_AVAILABLE = (
    "The selected filter is not available to you, perhaps it has been deleted or had its "
    "permissions changed."
)
UNFINISHED = (
    "Error in the JQL Query: Expecting either a value, list or function before the end of the "
    "query. (line 1, character 10)"
)
PRIVATE_ONLY = "Filters are private to their owner here: 'sharePermissions' must be empty."
EMPTY_LIST = {"size": 0, "items": [], "max-results": 1000, "start-index": 0, "end-index": 0}


async def _filter(api: JiraApi, user: str = "alice", **body: Any) -> dict[str, Any]:
    response = await api.call("POST", "/filter", user=user, json=body)
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()
    return made


@pytest.fixture
async def project(api: JiraApi) -> JiraApi:
    await api.project()
    return api


async def test_shape_and_crud(project: JiraApi) -> None:
    made = await _filter(
        project, name="Open bugs", jql="project = TEST AND status = Open", description="Mine"
    )
    owner = made.pop("owner")
    assert (owner["name"], owner["displayName"]) == ("alice", "Alice A")
    assert made == {
        "self": f"{BASE}/filter/{made['id']}",
        "id": made["id"],
        "name": "Open bugs",
        "description": "Mine",
        "jql": "project = TEST AND status = Open",
        "viewUrl": f"http://jira.test/issues/?filter={made['id']}",
        "searchUrl": f"{BASE}/search?jql=project%20%3D%20TEST%20AND%20status%20%3D%20Open",
        "favourite": False,
        "sharePermissions": [],
        "sharedUsers": EMPTY_LIST,
        "subscriptions": EMPTY_LIST,
    }
    fetched = (await project.call("GET", f"/filter/{made['id']}")).json()
    assert fetched == {**made, "owner": owner}

    response = await project.call(
        "PUT", f"/filter/{made['id']}", json={"jql": "status = Closed", "favourite": "true"}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["jql"], updated["favourite"]) == (
        "Open bugs",
        "status = Closed",
        True,
    )
    plain = await _filter(project, name="Plain", jql="")
    assert "description" not in plain
    assert [f["name"] for f in (await project.call("GET", "/filter/favourite")).json()] == [
        "Open bugs"
    ]
    assert [f["name"] for f in (await project.call("GET", "/filter/my")).json()] == [
        "Open bugs",
        "Plain",
    ]
    response = await project.call("DELETE", f"/filter/{made['id']}")
    assert response.status_code == 204
    response = await project.call("GET", f"/filter/{made['id']}")
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [NOT_AVAILABLE], "errors": {}}
    assert (await project.call("GET", "/filter/favourite")).json() == []


async def test_private_to_the_owner(project: JiraApi) -> None:
    made = await _filter(project, name="Alice's", jql="", favourite=True)
    for method in ("GET", "PUT", "DELETE"):
        body = {"name": "Stolen"} if method == "PUT" else None
        response = await project.call(method, f"/filter/{made['id']}", user="carol", json=body)
        assert response.status_code == 400, method
        assert response.json() == {"errorMessages": [NOT_AVAILABLE], "errors": {}}
    assert (await project.call("GET", "/filter/favourite", user="carol")).json() == []
    # Names are unique per owner only.
    carols = await _filter(project, user="carol", name="ALICE'S", jql="")
    assert carols["owner"]["name"] == "carol"
    response = await project.call(
        "GET", "/search", user="carol", params={"jql": f"filter = {made['id']}"}
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        f"The value '{made['id']}' does not exist for the field 'filter'."
    ]


async def test_refusals(project: JiraApi) -> None:
    first = await _filter(project, name="First", jql="")
    for body, errors in (
        ({"jql": ""}, {"filterName": "You must specify a name to save this filter as."}),
        (
            {"name": "  ", "jql": ""},
            {"filterName": "You must specify a name to save this filter as."},
        ),
        ({"name": "first", "jql": ""}, {"filterName": "Filter with same name already exists."}),
        ({"name": "x" * 256}, {"filterName": "The name must not be longer than 255 characters."}),
        (
            {"name": 5},
            {
                "name": "'name' must be a string.",
                "filterName": "You must specify a name to save this filter as.",
            },
        ),
        (
            {"name": "B", "jql": "status = "},
            {"jql": UNFINISHED},
        ),
        (
            {"name": "B", "jql": "nosuch = 1"},
            {"jql": "Field 'nosuch' does not exist or you do not have permission to view it."},
        ),
        (
            {"name": "B", "jql": "project = NOPE"},
            {"jql": "The value 'NOPE' does not exist for the field 'project'."},
        ),
        (
            {"name": "B", "jql": "ORDER BY nosuch"},
            {"jql": "Not able to sort using field 'nosuch'."},
        ),
        ({"name": "B", "jql": ["x"]}, {"jql": "'jql' must be a string."}),
        ({"name": "B", "favourite": "maybe"}, {"favourite": "'favourite' must be true or false."}),
        (
            {"name": "B", "sharePermissions": [{"type": "global"}]},
            {"sharePermissions": PRIVATE_ONLY},
        ),
    ):
        response = await project.call("POST", "/filter", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json() == {"errorMessages": [], "errors": errors}, body
    response = await project.call("PUT", f"/filter/{first['id']}", json={"name": "first"})
    assert response.status_code == 200  # its own name, in another case
    for ident in ("999999", "nope", "9" * 40):
        response = await project.call("PUT", f"/filter/{ident}", json={"name": "x"})
        assert response.status_code == 400
        assert response.json()["errorMessages"] == [NOT_AVAILABLE]


async def test_filters_in_jql(project: JiraApi) -> None:
    open_one = (await project.issue("Open one", labels=["a"]))["key"]
    other = (await project.issue("Other", labels=["b"]))["key"]
    third = (await project.issue("Third"))["key"]
    labelled_a = await _filter(project, name="Label A", jql="labels = a ORDER BY key")
    labelled_b = await _filter(project, name="Label B", jql="labels = b")
    either = await _filter(
        project, name="Either", jql=f'filter = {labelled_a["id"]} OR filter = "label b"'
    )
    everything = await _filter(project, name="Everything", jql="")

    async def keys(jql: str) -> set[str]:
        response = await project.call("GET", "/search", params={"jql": jql, "fields": "summary"})
        assert response.status_code == 200, (jql, response.text)
        return {i["key"] for i in response.json()["issues"]}

    assert await keys(f"filter = {labelled_a['id']}") == {open_one}
    assert await keys('filter = "Label A"') == {open_one}
    assert await keys(f"filter in ({labelled_a['id']}, 'Label B')") == {open_one, other}
    assert await keys(f"filter = {either['id']}") == {open_one, other}
    assert await keys(f"project = TEST AND filter != {labelled_b['id']}") == {open_one, third}
    assert await keys(f"NOT filter = {either['id']}") == {third}
    assert await keys(f"request = {everything['id']}") == {open_one, other, third}
    assert await keys(f"savedFilter not in ({everything['id']})") == set()
    assert await keys("searchRequest = 'Either' AND labels = b") == {other}

    # A cycle is refused when it would be saved: B -> Either -> B.
    response = await project.call(
        "PUT", f"/filter/{labelled_b['id']}", json={"jql": f"filter = {either['id']}"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "jql": "Field 'filter' with value 'label b' matches filter 'Label B' and causes a cycle."
    }
    response = await project.call(
        "PUT", f"/filter/{labelled_a['id']}", json={"jql": "filter = 'label a'"}
    )
    assert response.json()["errors"] == {
        "jql": "Field 'filter' with value 'label a' matches filter 'Label A' and causes a cycle."
    }
    for bad, message in (
        ("filter = 999999", "The value '999999' does not exist for the field 'filter'."),
        ("filter = nothing", "The value 'nothing' does not exist for the field 'filter'."),
        ("filter > 1", "The operator '>' is not supported by the 'filter' field."),
        ("filter is EMPTY", "The operator 'is' is not supported by the 'filter' field."),
        ("filter ~ x", "The operator '~' is not supported by the 'filter' field."),
        (
            "filter = currentUser()",
            "A value provided by the function 'currentUser' is invalid for the field 'filter'.",
        ),
    ):
        response = await project.call("GET", "/search", params={"jql": bad})
        assert response.status_code == 400, bad
        assert response.json() == {"errorMessages": [message], "errors": {}}
    # A named filter that is deleted fails the filters naming it, as in Jira.
    await project.call("DELETE", f"/filter/{labelled_b['id']}")
    response = await project.call("GET", "/search", params={"jql": f"filter = {either['id']}"})
    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        "The value 'label b' does not exist for the field 'filter'."
    ]
