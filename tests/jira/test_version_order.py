"""The rest of ``/version`` over plain HTTP, on SQLite and PostgreSQL: moving a version in
its project's order, the counts of its issues, the JQL version functions and ordering by
version."""

from __future__ import annotations

from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

BASE = "http://jira.test/rest/api/2"


@pytest.fixture
async def versions(api: JiraApi) -> dict[str, dict[str, Any]]:
    """Project TEST with 1.0 (released), 2.0 (released), 3.0, 4.0 and 0.9 (released,
    archived); project OTHER with 1.0 (unreleased)."""
    await api.project()
    await api.project("OTHER", "Other project")
    made: dict[str, dict[str, Any]] = {}
    for name, body in (
        ("1.0", {"released": True}),
        ("2.0", {"released": True}),
        ("3.0", {}),
        ("4.0", {}),
        ("0.9", {"released": True, "archived": True}),
    ):
        response = await api.call(
            "POST", "/version", json={"project": "TEST", "name": name, **body}
        )
        assert response.status_code == 201, response.text
        made[name] = response.json()
    response = await api.call("POST", "/version", json={"project": "OTHER", "name": "1.0"})
    made["other"] = response.json()
    return made


async def _order(api: JiraApi, project: str = "TEST") -> list[str]:
    return [v["name"] for v in (await api.call("GET", f"/project/{project}/versions")).json()]


async def test_move(api: JiraApi, versions: dict[str, dict[str, Any]]) -> None:
    assert await _order(api) == ["1.0", "2.0", "3.0", "4.0", "0.9"]
    three = versions["3.0"]["id"]

    async def move(ident: str, **body: Any) -> dict[str, Any]:
        response = await api.call("POST", f"/version/{ident}/move", json=body)
        assert response.status_code == 200, response.text
        moved: dict[str, Any] = response.json()
        return moved

    moved = await move(versions["0.9"]["id"], position="First")
    assert moved["name"] == "0.9"
    assert moved["self"] == f"{BASE}/version/{versions['0.9']['id']}"
    assert await _order(api) == ["0.9", "1.0", "2.0", "3.0", "4.0"]
    await move(three, position="Earlier")
    assert await _order(api) == ["0.9", "1.0", "3.0", "2.0", "4.0"]
    await move(three, position="later")
    await move(three, position="Later")
    assert await _order(api) == ["0.9", "1.0", "2.0", "4.0", "3.0"]
    await move(three, position="Later")  # already last: stays
    await move(versions["0.9"]["id"], position="Earlier")  # already first: stays
    assert await _order(api) == ["0.9", "1.0", "2.0", "4.0", "3.0"]
    await move(versions["0.9"]["id"], position="Last")
    assert await _order(api) == ["1.0", "2.0", "4.0", "3.0", "0.9"]
    await move(three, after=versions["1.0"]["self"])  # moving up, after a self URL
    assert await _order(api) == ["1.0", "3.0", "2.0", "4.0", "0.9"]
    await move(versions["1.0"]["id"], after=versions["4.0"]["id"])  # moving down, after an id
    assert await _order(api) == ["3.0", "2.0", "4.0", "1.0", "0.9"]
    await move(three, after=versions["3.0"]["self"])  # after itself: stays
    assert await _order(api) == ["3.0", "2.0", "4.0", "1.0", "0.9"]
    assert await _order(api, "OTHER") == ["1.0"]


async def test_move_refusals(api: JiraApi, versions: dict[str, dict[str, Any]]) -> None:
    one = versions["1.0"]["id"]
    rule = "A version moves to a 'position' (First, Last, Earlier or Later) or 'after' a version."
    for body, errors in (
        ({}, {"position": rule}),
        ({"position": "Sideways"}, {"position": rule}),
        ({"position": 3}, {"position": rule}),
        ({"position": "First", "after": versions["2.0"]["self"]}, {"position": rule}),
        (
            {"after": versions["other"]["self"]},
            {"after": f"The version '{versions['other']['self']}' does not exist in this project."},
        ),
        ({"after": ["x"]}, {"after": "The version '['x']' does not exist in this project."}),
    ):
        response = await api.call("POST", f"/version/{one}/move", json=body)
        assert response.status_code == 400, body
        assert response.json() == {"errorMessages": [], "errors": errors}
    response = await api.call(
        "POST", f"/version/{one}/move", json={"position": "First"}, user="dave"
    )
    assert response.status_code == 403
    response = await api.call("POST", "/version/999999/move", json={"position": "First"})
    assert response.status_code == 404
    assert response.json()["errorMessages"] == ["Could not find version for id '999999'"]
    assert await _order(api) == ["1.0", "2.0", "3.0", "4.0", "0.9"]


async def test_issue_counts(api: JiraApi, versions: dict[str, dict[str, Any]]) -> None:
    one, two = versions["1.0"], versions["2.0"]
    await api.issue("Fixed", fixVersions=[{"id": one["id"]}], versions=[{"id": two["id"]}])
    done = await api.issue("Done", fixVersions=[{"id": one["id"]}])
    await api.issue("Affected", versions=[{"id": one["id"]}])
    transitions = (await api.call("GET", f"/issue/{done['key']}/transitions")).json()
    resolve = next(t for t in transitions["transitions"] if t["name"] == "Resolve Issue")
    response = await api.call(
        "POST",
        f"/issue/{done['key']}/transitions",
        json={"transition": {"id": resolve["id"]}, "fields": {"resolution": {"name": "Fixed"}}},
    )
    assert response.status_code == 204, response.text

    counts = (await api.call("GET", f"/version/{one['id']}/relatedIssueCounts")).json()
    assert counts == {
        "self": f"{BASE}/version/{one['id']}",
        "issuesFixedCount": 2,
        "issuesAffectedCount": 1,
        "issueCountWithCustomFieldsShowingVersion": 0,
    }
    unresolved = (await api.call("GET", f"/version/{one['id']}/unresolvedIssueCount")).json()
    assert unresolved == {
        "self": f"{BASE}/version/{one['id']}",
        "issuesCount": 2,
        "issuesUnresolvedCount": 1,
    }
    counts = (await api.call("GET", f"/version/{two['id']}/relatedIssueCounts", user="dave")).json()
    assert (counts["issuesFixedCount"], counts["issuesAffectedCount"]) == (0, 1)
    for path in ("relatedIssueCounts", "unresolvedIssueCount"):
        response = await api.call("GET", f"/version/nope/{path}")
        assert response.status_code == 404
        assert response.json()["errorMessages"] == ["Could not find version for id 'nope'"]


async def test_version_functions(api: JiraApi, versions: dict[str, dict[str, Any]]) -> None:
    issues = {}
    for name in ("1.0", "2.0", "3.0", "4.0", "0.9"):
        issues[name] = (await api.issue(f"Fixed in {name}", fixVersions=[{"name": name}]))["key"]
    affected = (await api.issue("Affects 3.0", versions=[{"name": "3.0"}]))["key"]
    other = (await api.issue("Other", project="OTHER", fixVersions=[{"name": "1.0"}]))["key"]

    async def keys(jql: str) -> set[str]:
        response = await api.call("GET", "/search", params={"jql": jql, "fields": "summary"})
        assert response.status_code == 200, (jql, response.text)
        return {i["key"] for i in response.json()["issues"]}

    released = {issues["1.0"], issues["2.0"]}  # 0.9 is archived
    assert await keys("fixVersion in releasedVersions()") == released
    assert await keys("fixVersion in releasedVersions(TEST)") == released
    assert await keys('fixVersion in releasedVersions("Other project")') == set()
    assert await keys("fixVersion in unreleasedVersions()") == {
        issues["3.0"],
        issues["4.0"],
        other,
    }
    assert await keys("fixVersion in unreleasedVersions(OTHER, TEST)") == {
        issues["3.0"],
        issues["4.0"],
        other,
    }
    assert await keys("fixVersion = latestReleasedVersion(TEST)") == {issues["2.0"]}
    assert await keys("fixVersion = earliestUnreleasedVersion(TEST)") == {issues["3.0"]}
    assert await keys("affectedVersion = earliestUnreleasedVersion(TEST)") == {affected}
    assert await keys("project = TEST AND fixVersion not in releasedVersions()") == {
        issues["3.0"],
        issues["4.0"],
        issues["0.9"],
    }
    assert await keys("fixVersion in (releasedVersions(TEST), 4.0)") == released | {issues["4.0"]}
    assert await keys("fixVersion = latestReleasedVersion(OTHER)") == set()
    # Jira's order, not the names: move 3.0 first and it is the earliest unreleased still.
    response = await api.call(
        "POST", f"/version/{versions['4.0']['id']}/move", json={"position": "First"}
    )
    assert response.status_code == 200
    assert await keys("fixVersion = earliestUnreleasedVersion(TEST)") == {issues["4.0"]}
    for bad, message in (
        (
            "fixVersion = latestReleasedVersion()",
            "Function 'latestReleasedVersion' expected '1' arguments but received '0'.",
        ),
        (
            "fixVersion = earliestUnreleasedVersion(TEST, OTHER)",
            "Function 'earliestUnreleasedVersion' expected '1' arguments but received '2'.",
        ),
        (
            "fixVersion in releasedVersions(NOPE)",
            "Could not resolve the project 'NOPE' provided to function 'releasedVersions'.",
        ),
        (
            "assignee in releasedVersions()",
            "A value provided by the function 'releasedVersions' is invalid for the field "
            "'assignee'.",
        ),
    ):
        response = await api.call("GET", "/search", params={"jql": bad})
        assert response.status_code == 400, bad
        assert response.json() == {"errorMessages": [message], "errors": {}}


async def test_order_by_version(api: JiraApi, versions: dict[str, dict[str, Any]]) -> None:
    late = (await api.issue("Late", fixVersions=[{"name": "4.0"}]))["key"]
    early = (await api.issue("Early", fixVersions=[{"name": "1.0"}, {"name": "4.0"}]))["key"]
    middle = (await api.issue("Middle", fixVersions=[{"name": "3.0"}]))["key"]
    none = (await api.issue("None"))["key"]

    async def keys(jql: str) -> list[str]:
        response = await api.call("GET", "/search", params={"jql": jql, "fields": "summary"})
        assert response.status_code == 200, (jql, response.text)
        return [i["key"] for i in response.json()["issues"]]

    assert await keys("project = TEST ORDER BY fixVersion") == [early, middle, late, none]
    assert await keys("project = TEST ORDER BY fixVersion DESC") == [none, late, middle, early]
    await api.call("POST", f"/version/{versions['4.0']['id']}/move", json={"position": "First"})
    assert await keys("project = TEST ORDER BY fixVersion ASC") == [late, early, middle, none]
    assert (await keys("project = TEST ORDER BY affectedVersion, key"))[0] == late
    assert len(await keys("ORDER BY component DESC, fixVersion")) == 4
