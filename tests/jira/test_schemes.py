"""Schemes and project categories as ``create_project`` reads them, and the scheme ids a
project create may carry; on each database."""

from __future__ import annotations

from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


async def test_scheme_shapes(api: JiraApi) -> None:
    permission = (await api.call("GET", "/permissionscheme")).json()
    (scheme,) = permission["permissionSchemes"]
    assert scheme["name"] == "Default Permission Scheme"
    assert scheme["id"] == 0
    assert (await api.call("GET", "/permissionscheme/0")).json() == scheme
    security = (await api.call("GET", "/issuesecurityschemes")).json()
    (level_scheme,) = security["issueSecuritySchemes"]
    assert (level_scheme["id"], level_scheme["name"], level_scheme["levels"]) == (
        10000,
        "Default",
        [],
    )
    notification = (await api.call("GET", "/notificationscheme", "dave")).json()
    assert notification["total"] == 1
    assert notification["values"][0]["id"] == 10000
    assert (await api.call("GET", "/notificationscheme/10000", "dave")).status_code == 200
    assert (await api.call("GET", "/projectCategory", "dave")).json() == []
    for path in ("/permissionscheme/7", "/notificationscheme/x", "/projectCategory/10000"):
        missing = await api.call("GET", path)
        assert missing.status_code == 404
        assert missing.json()["errorMessages"]


async def test_permission_and_security_schemes_are_for_administrators(api: JiraApi) -> None:
    for path in ("/permissionscheme", "/permissionscheme/0", "/issuesecurityschemes"):
        refused = await api.call("GET", path, "dave")
        assert refused.status_code == 403
        assert "Administrator" in refused.json()["errorMessages"][0]
    assert (await api.call("GET", "/issuesecurityschemes", "bob")).status_code == 200


async def test_create_with_what_create_project_sends(api: JiraApi) -> None:
    body = {
        "name": "Scheme project",
        "key": "SCH",
        "projectTypeKey": "software",
        "projectTemplateKey": "com.pyxis.greenhopper.jira:basic-software-development-template",
        "lead": "bob",
        "assigneeType": "PROJECT_LEAD",
        "description": "",
        "permissionScheme": 0,
        "notificationScheme": 10000,
        "issueSecurityScheme": 10000,
        "url": "",
    }
    created = await api.call("POST", "/project", json=body)
    assert created.status_code == 201, created.text
    project = (await api.call("GET", "/project/SCH")).json()
    assert project["assigneeType"] == "PROJECT_LEAD"
    assert project["lead"]["name"] == "bob"
    await api.project("PLAIN", "Plain")
    plain = (await api.call("GET", "/project/PLAIN")).json()
    assert plain["assigneeType"] == "UNASSIGNED"


@pytest.mark.parametrize(
    ("extra", "member"),
    [
        ({"permissionScheme": 10000}, "permissionScheme"),
        ({"permissionScheme": True}, "permissionScheme"),
        ({"notificationScheme": "1"}, "notificationScheme"),
        ({"issueSecurityScheme": [1]}, "issueSecurityScheme"),
        ({"categoryId": 10000}, "projectCategory"),
        ({"assigneeType": "COMPONENT_LEAD"}, "assigneeType"),
        ({"assigneeType": 1}, "assigneeType"),
    ],
)
async def test_unknown_schemes_are_jiras_400(
    api: JiraApi, extra: dict[str, Any], member: str
) -> None:
    response = await api.call("POST", "/project", json={"key": "BAD", "name": "Bad", **extra})
    assert response.status_code == 400, response.text
    assert member in response.json()["errors"]
    assert (await api.call("GET", "/project/BAD")).status_code == 404
