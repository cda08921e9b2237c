"""``/version`` and ``/component`` over plain HTTP: Jira Server's shapes, who may change
them, and the 400/404 answers to bad input, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

BASE = "http://jira.test/rest/api/2"


async def _version(api: JiraApi, **body: Any) -> dict[str, Any]:
    response = await api.call("POST", "/version", json={"project": "TEST", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _component(api: JiraApi, **body: Any) -> dict[str, Any]:
    response = await api.call("POST", "/component", json={"project": "TEST", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
async def project(api: JiraApi) -> JiraApi:
    await api.project()
    return api


async def test_version_shape(project: JiraApi) -> None:
    project_id = int((await project.call("GET", "/project/TEST")).json()["id"])
    bare = await _version(project, name="1.0")
    assert bare == {
        "self": f"{BASE}/version/{bare['id']}",
        "id": bare["id"],
        "name": "1.0",
        "archived": False,
        "released": False,
        "projectId": project_id,
    }
    dated = await _version(
        project,
        name="2.0",
        description="The big one",
        startDate="2010-07-01",
        releaseDate="2010-07-06",
    )
    assert dated == {
        "self": f"{BASE}/version/{dated['id']}",
        "id": dated["id"],
        "description": "The big one",
        "name": "2.0",
        "archived": False,
        "released": False,
        "startDate": "2010-07-01",
        "releaseDate": "2010-07-06",
        "userStartDate": "1/Jul/10",
        "overdue": True,
        "userReleaseDate": "6/Jul/10",
        "projectId": project_id,
    }
    assert (await project.call("GET", f"/version/{dated['id']}")).json() == dated
    future = (datetime.now(UTC) + timedelta(days=30)).date()
    later = await _version(project, name="3.0", userReleaseDate=f"{future:%d/%b/%y}")
    assert later["releaseDate"] == future.isoformat()
    assert later["overdue"] is False
    listed = (await project.call("GET", "/project/TEST/versions")).json()
    assert [v["name"] for v in listed] == ["1.0", "2.0", "3.0"]
    assert listed[1] == dated


async def test_version_update_and_delete(project: JiraApi) -> None:
    made = await _version(project, name="1.0", releaseDate="2030-01-01")
    path = f"/version/{made['id']}"
    response = await project.call(
        "PUT", path, json={"name": "1.0.1", "released": True, "archived": "true"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["released"], body["archived"]) == ("1.0.1", True, True)
    assert body["overdue"] is False
    assert (await project.call("GET", path)).json() == body
    assert (await project.call("DELETE", path)).status_code == 204
    gone = await project.call("GET", path)
    assert gone.status_code == 404
    assert gone.json() == {
        "errorMessages": [f"Could not find version for id '{made['id']}'"],
        "errors": {},
    }
    assert (await project.call("GET", "/project/TEST/versions")).json() == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"project": "TEST"}, {"name": "You must specify a valid version name"}),
        ({"project": "TEST", "name": "  "}, {"name": "You must specify a valid version name"}),
        ({"project": "TEST", "name": 5}, {"name": "'name' must be a string."}),
        (
            {"project": "TEST", "name": "x" * 256},
            {"name": "The name must not be longer than 255 characters."},
        ),
        ({"name": "1.0"}, {"project": "Project must be specified to create a version."}),
        (
            {"name": "1.0", "project": ["TEST"]},
            {"project": "The project must be given by its key or its id."},
        ),
        (
            {"name": "1.0", "project": "NOPE"},
            {
                "project": "Project with key 'NOPE' either does not exist or you do not have "
                "permission to create versions in it."
            },
        ),
        (
            {"project": "TEST", "name": "1.0", "releaseDate": "06/07/2010"},
            {"releaseDate": 'Invalid date format. Please enter the date in the format "d/MMM/yy".'},
        ),
        (
            {"project": "TEST", "name": "1.0", "releaseDate": 20100706},
            {"releaseDate": 'Invalid date format. Please enter the date in the format "d/MMM/yy".'},
        ),
        (
            {"project": "TEST", "name": "1.0", "userReleaseDate": "32/Jul/10"},
            {"releaseDate": 'Invalid date format. Please enter the date in the format "d/MMM/yy".'},
        ),
        (
            {
                "project": "TEST",
                "name": "1.0",
                "startDate": "2020-02-02",
                "releaseDate": "2020-01-01",
            },
            {"startDate": "The start date must be before the release date."},
        ),
        (
            {"project": "TEST", "name": "1.0", "released": "yes"},
            {"released": "'released' must be true or false."},
        ),
    ],
)
async def test_version_bad_input_is_400(
    project: JiraApi, body: dict[str, Any], errors: dict[str, str]
) -> None:
    response = await project.call("POST", "/version", json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"errorMessages": [], "errors": errors}
    assert (await project.call("GET", "/project/TEST/versions")).json() == []


async def test_version_names_are_unique_in_a_project(project: JiraApi) -> None:
    first = await _version(project, name="1.0")
    await project.project("OTHER", "Other project")
    response = await project.call("POST", "/version", json={"project": "TEST", "name": "1.0"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name": "A version with this name already exists in this project."
    }
    response = await project.call("POST", "/version", json={"project": "OTHER", "name": "1.0"})
    assert response.status_code == 201
    second = await _version(project, name="2.0")
    response = await project.call("PUT", f"/version/{second['id']}", json={"name": "1.0"})
    assert response.status_code == 400
    assert (await project.call("GET", f"/version/{first['id']}")).json()["name"] == "1.0"


async def test_only_project_administrators_change_versions(project: JiraApi) -> None:
    made = await _version(project, name="1.0")
    path = f"/version/{made['id']}"
    refused = {
        "errorMessages": [
            "You must have global or project administrator rights in order to modify versions."
        ],
        "errors": {},
    }
    for method, where, body in (
        ("POST", "/version", {"project": "TEST", "name": "2.0"}),
        ("PUT", path, {"name": "x"}),
        ("DELETE", path, None),
    ):
        response = await project.call(method, where, user="carol", json=body)
        assert response.status_code == 403, (method, response.text)
        assert response.json() == refused
    assert (await project.call("GET", path, user="carol")).json() == made
    # bob is in jira-administrators: the project role "Administrators"
    assert (await project.call("PUT", path, user="bob", json={"name": "1.1"})).status_code == 200
    anonymous = await project.harness.client.get(f"/rest/api/2{path}")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("ident", ["0", "99999", "abc", "9" * 40, "-1"])
async def test_unknown_versions_and_components_are_404(project: JiraApi, ident: str) -> None:
    for kind in ("version", "component"):
        for method in ("GET", "PUT", "DELETE"):
            body = {"name": "x"} if method == "PUT" else None
            response = await project.call(method, f"/{kind}/{ident}", json=body)
            assert response.status_code == 404, (kind, method, response.text)
    for kind in ("versions", "components"):
        response = await project.call("GET", f"/project/NOPE/{kind}")
        assert response.status_code == 404
        assert response.json()["errorMessages"] == ["No project could be found with key 'NOPE'."]


async def test_component_shape(project: JiraApi) -> None:
    project_id = int((await project.call("GET", "/project/TEST")).json()["id"])
    bare = await _component(project, name="Backend")
    assert bare == {
        "self": f"{BASE}/component/{bare['id']}",
        "id": bare["id"],
        "name": "Backend",
        "assigneeType": "PROJECT_DEFAULT",
        "realAssigneeType": "UNASSIGNED",
        "isAssigneeTypeValid": True,
        "project": "TEST",
        "projectId": project_id,
    }
    led = await _component(
        project,
        name="API",
        description="The REST API",
        leadUserName="carol",
        assigneeType="COMPONENT_LEAD",
    )
    carol = (await project.call("GET", "/user?username=carol")).json()
    assert led == {
        "self": f"{BASE}/component/{led['id']}",
        "id": led["id"],
        "name": "API",
        "description": "The REST API",
        "lead": led["lead"],
        "assigneeType": "COMPONENT_LEAD",
        "assignee": led["lead"],
        "realAssigneeType": "COMPONENT_LEAD",
        "realAssignee": led["lead"],
        "isAssigneeTypeValid": True,
        "project": "TEST",
        "projectId": project_id,
    }
    assert {k: led["lead"][k] for k in ("name", "displayName", "key")} == {
        k: carol[k] for k in ("name", "displayName", "key")
    }
    assert (await project.call("GET", f"/component/{led['id']}")).json() == led
    listed = (await project.call("GET", "/project/TEST/components")).json()
    assert [c["name"] for c in listed] == ["API", "Backend"]
    # the project lead (alice, who created it) is the project's default when asked for
    response = await project.call(
        "PUT", f"/component/{bare['id']}", json={"assigneeType": "PROJECT_LEAD"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["realAssigneeType"], body["realAssignee"]["name"]) == ("PROJECT_LEAD", "alice")
    assert body["isAssigneeTypeValid"] is True


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"project": "TEST"},
            {"name": "The component name specified is invalid - cannot be an empty string."},
        ),
        (
            {"project": "TEST", "name": "C", "leadUserName": "nobody"},
            {"leadUserName": "The user nobody does not exist."},
        ),
        (
            {"project": "TEST", "name": "C", "leadUserName": 3},
            {"leadUserName": "'leadUserName' must be a string."},
        ),
        (
            {"project": "TEST", "name": "C", "assigneeType": "ME"},
            {"assigneeType": "Invalid assignee type 'ME'."},
        ),
        ({"name": "C"}, {"project": "Project must be specified to create a component."}),
        (
            {"project": "TEST", "name": "C", "description": {}},
            {"description": "'description' must be a string."},
        ),
    ],
)
async def test_component_bad_input_is_400(
    project: JiraApi, body: dict[str, Any], errors: dict[str, str]
) -> None:
    response = await project.call("POST", "/component", json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"errorMessages": [], "errors": errors}


async def test_component_names_and_rights(project: JiraApi) -> None:
    made = await _component(project, name="Backend")
    response = await project.call("POST", "/component", json={"project": "TEST", "name": "backend"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name": "A component with the name backend already exists in this project."
    }
    path = f"/component/{made['id']}"
    for method, body in (("PUT", {"name": "x"}), ("DELETE", None)):
        response = await project.call(method, path, user="dave", json=body)
        assert response.status_code == 403
    assert (await project.call("DELETE", path, user="bob")).status_code == 204
    assert (await project.call("GET", path)).status_code == 404


@pytest.mark.parametrize("content", [b"", b"[]", b"{", b'"x"', b"[" * 100 + b"]" * 100])
async def test_unparseable_bodies_are_400(project: JiraApi, content: bytes) -> None:
    made = await _version(project, name="1.0")
    component = await _component(project, name="C")
    for method, path in (
        ("POST", "/version"),
        ("PUT", f"/version/{made['id']}"),
        ("POST", "/component"),
        ("PUT", f"/component/{component['id']}"),
    ):
        response = await project.call(
            method, path, content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (path, content, response.text)
        assert response.json()["errorMessages"]


async def test_deleting_a_project_deletes_its_versions_and_components(project: JiraApi) -> None:
    version = await _version(project, name="1.0")
    component = await _component(project, name="UI")
    await project.issue("Tagged", fixVersions=[{"name": "1.0"}], components=[{"name": "UI"}])
    assert (await project.call("DELETE", "/project/TEST")).status_code == 204
    assert (await project.call("GET", f"/version/{version['id']}")).status_code == 404
    assert (await project.call("GET", f"/component/{component['id']}")).status_code == 404
    await project.project()  # a new project never inherits them, whatever id it is given
    assert (await project.call("GET", "/project/TEST/versions")).json() == []
    assert (await project.call("GET", "/project/TEST/components")).json() == []
