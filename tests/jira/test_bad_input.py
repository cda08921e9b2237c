"""Bad input gets Jira's error envelope with 400/403/404/413, never a 500.

See docs/jira-compat.md §4 and §6.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HarnessFactory
from tests.jira.conftest import JiraApi, build_api
from tests.support.idp import TestProvider

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

JSON = "application/json;charset=UTF-8"


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    body: dict[str, Any] = response.json()
    assert set(body) == {"errorMessages", "errors"}
    return body


@pytest.fixture
async def with_issue(api: JiraApi) -> JiraApi:
    await api.project()
    await api.issue("Existing")
    return api


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"{not json", "errorMessages"),
        (b"[1, 2]", "errorMessages"),
        (b"", "errorMessages"),
        (b"\xff\xfe", "errorMessages"),
        (b'{"fields": "nope"}', "errorMessages"),
    ],
)
async def test_unparseable_create_bodies(with_issue: JiraApi, content: bytes, where: str) -> None:
    response = await with_issue.call("POST", "/issue", content=content)
    assert _error(response, 400)[where]


async def test_create_validation_reports_each_field(with_issue: JiraApi) -> None:
    response = await with_issue.call("POST", "/issue", json={"fields": {}})
    assert _error(response, 400) == {
        "errorMessages": [],
        "errors": {
            "project": "project is required",
            "issuetype": "issue type is required",
            "summary": "You must specify a summary of the issue.",
        },
    }
    response = await with_issue.call(
        "POST",
        "/issue",
        json={
            "fields": {
                "project": {"key": "NOPE"},
                "issuetype": {"id": "999"},
                "summary": 42,
                "priority": {"name": "Urgent!!"},
                "assignee": {"name": "nobody"},
                "labels": ["has space"],
                "duedate": "28/11/2026",
                "customfield_10000": "x",
            }
        },
    )
    assert _error(response, 400)["errors"] == {
        "project": "valid project is required",
        "issuetype": "valid issue type is required",
        "summary": "Operation value must be a string",
        "priority": "valid priority is required",
        "assignee": "User 'nobody' does not exist.",
        "labels": "The label 'has space' contained spaces which is invalid.",
        "duedate": "Error parsing date string: 28/11/2026",
        "customfield_10000": (
            "Field 'customfield_10000' cannot be set. It is not on the appropriate screen, "
            "or unknown."
        ),
    }


async def test_unknown_keys_and_nulls_are_ignored(with_issue: JiraApi) -> None:
    response = await with_issue.call(
        "POST",
        "/issue?updateHistory=false",
        json={
            "fields": {
                "project": {"id": "1"},
                "issuetype": {"id": 3},
                "summary": "ok",
                "description": None,
            },
            "update": None,
            "notifyUsers": "true",
            "somethingElse": {"a": 1},
        },
    )
    assert response.status_code == 201
    assert response.json()["key"] == "TEST-2"


async def test_edit_problems_change_nothing(with_issue: JiraApi) -> None:
    response = await with_issue.call(
        "PUT",
        "/issue/TEST-1",
        json={"fields": {"summary": "changed", "status": {"name": "Closed"}}},
    )
    assert "status" in _error(response, 400)["errors"]
    summary = (await with_issue.call("GET", "/issue/TEST-1?fields=summary")).json()
    assert summary["fields"]["summary"] == "Existing"

    empty = await with_issue.call("PUT", "/issue/TEST-1", json={"fields": {"summary": ""}})
    assert _error(empty, 400)["errors"] == {"summary": "You must specify a summary of the issue."}
    both = await with_issue.call(
        "PUT",
        "/issue/TEST-1",
        json={"fields": {"labels": []}, "update": {"labels": [{"add": "x"}]}},
    )
    assert "labels" in _error(both, 400)["errors"]
    verb = await with_issue.call(
        "PUT", "/issue/TEST-1", json={"update": {"summary": [{"add": "x"}]}}
    )
    assert "summary" in _error(verb, 400)["errors"]


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/issue/TEST-99", "Issue Does Not Exist"),
        ("GET", "/issue/99999", "Issue Does Not Exist"),
        ("PUT", "/issue/NOPE-1", "Issue Does Not Exist"),
        ("DELETE", "/issue/TEST-99", "Issue Does Not Exist"),
        ("GET", "/issue/TEST-99/comment", "Issue Does Not Exist"),
        ("GET", "/issue/TEST-1/comment/123", "Can not find a comment for the id: 123."),
        ("GET", "/issue/TEST-1/comment/abc", "Can not find a comment for the id: abc."),
        ("GET", "/project/NOPE", "No project could be found with key 'NOPE'."),
        ("GET", "/issue/TEST-99/transitions", "Issue Does Not Exist"),
        ("GET", "/issuetype/77", "The issue type with id '77' does not exist"),
        ("GET", "/user?username=ghost", "The user named 'ghost' does not exist"),
        ("GET", "/attachment/5", "The attachment with id '5' does not exist"),
        ("GET", "/issue/createmeta", "Issue Does Not Exist"),  # removed in Jira 9
    ],
)
async def test_unknown_things_are_404(
    with_issue: JiraApi, method: str, path: str, message: str
) -> None:
    body = {"fields": {"summary": "x"}} if method == "PUT" else None
    response = await with_issue.call(method, path, json=body)
    assert _error(response, 404) == {"errorMessages": [message], "errors": {}}


@pytest.mark.parametrize(
    "query",
    [
        "startAt=-1",
        "startAt=abc",
        "maxResults=-5",
        "maxResults=1e9",
    ],
)
async def test_bad_paging_parameters(with_issue: JiraApi, query: str) -> None:
    response = await with_issue.call("GET", f"/issue/TEST-1/comment?{query}")
    assert _error(response, 400)["errorMessages"]


async def test_absurd_max_results_is_capped(with_issue: JiraApi) -> None:
    page = await with_issue.call("GET", "/issue/TEST-1/comment?maxResults=99999999999")
    assert page.status_code == 200
    assert page.json()["maxResults"] == 5000


async def test_bad_query_boolean(with_issue: JiraApi) -> None:
    response = await with_issue.call("GET", "/user/search?username=a&includeActive=maybe")
    assert _error(response, 400)["errorMessages"]


async def test_project_rules(with_issue: JiraApi) -> None:
    denied = await with_issue.call(
        "POST", "/project", json={"key": "NEW", "name": "N"}, user="dave"
    )
    assert _error(denied, 403)["errorMessages"] == [
        "You must have global administrator rights in order to modify projects."
    ]
    for method in ("PUT", "DELETE"):
        response = await with_issue.call(method, "/project/TEST", json={"name": "x"}, user="carol")
        assert response.status_code == 403
    by_group = await with_issue.call(
        "POST", "/project", json={"key": "GRP", "name": "G"}, user="bob"
    )
    assert by_group.status_code == 201

    for key in ("lower", "1ABC", "A", "TOOLONGKEY1", "A-B"):
        response = await with_issue.call("POST", "/project", json={"key": key, "name": key})
        assert "projectKey" in _error(response, 400)["errors"], key
    taken = await with_issue.call("POST", "/project", json={"key": "TEST", "name": "Other"})
    assert _error(taken, 400)["errors"] == {"projectKey": "Project 'TEST' uses this project key."}
    same_name = await with_issue.call(
        "POST", "/project", json={"key": "DUP", "name": "test project"}
    )
    assert _error(same_name, 400)["errors"] == {
        "projectName": "A project with that name already exists."
    }
    no_name = await with_issue.call("POST", "/project", json={"key": "NONAME"})
    assert "projectName" in _error(no_name, 400)["errors"]
    bad_lead = await with_issue.call(
        "POST", "/project", json={"key": "LEAD", "name": "L", "lead": "x"}
    )
    assert "projectLead" in _error(bad_lead, 400)["errors"]


async def test_comment_rules(with_issue: JiraApi) -> None:
    empty = await with_issue.call("POST", "/issue/TEST-1/comment", json={"body": "  "})
    assert _error(empty, 400)["errors"] == {"comment": "Comment body can not be empty!"}
    wrong = await with_issue.call("POST", "/issue/TEST-1/comment", json={"body": ["x"]})
    assert _error(wrong, 400)["errors"]


async def test_transition_rules(with_issue: JiraApi) -> None:
    invalid = await with_issue.call(
        "POST", "/issue/TEST-1/transitions", json={"transition": {"id": "3"}}
    )
    assert _error(invalid, 400)["errorMessages"] == [
        "Transition id '3' is not valid for this issue."
    ]
    missing = await with_issue.call("POST", "/issue/TEST-1/transitions", json={"fields": {}})
    assert _error(missing, 400)["errorMessages"] == ["Missing 'transition' identifier"]
    resolution = await with_issue.call(
        "POST",
        "/issue/TEST-1/transitions",
        json={"transition": {"id": "5"}, "fields": {"resolution": {"name": "Maybe"}}},
    )
    assert _error(resolution, 400)["errors"] == {"resolution": "valid resolution is required"}
    status = (await with_issue.call("GET", "/issue/TEST-1?fields=status")).json()
    assert status["fields"]["status"]["name"] == "Open"


async def test_worklog_rules(with_issue: JiraApi) -> None:
    for body, field in (
        ({}, "timeLogged"),
        ({"timeSpent": "soon"}, "timeLogged"),
        ({"timeSpentSeconds": -3}, "timeLogged"),
        ({"timeSpent": "1h", "started": "yesterday"}, "started"),
    ):
        response = await with_issue.call("POST", "/issue/TEST-1/worklog", json=body)
        assert field in _error(response, 400)["errors"], body


async def test_assignee_rules(with_issue: JiraApi) -> None:
    unknown = await with_issue.call("PUT", "/issue/TEST-1/assignee", json={"name": "ghost"})
    assert _error(unknown, 400)["errorMessages"] == ["User 'ghost' does not exist."]
    wrong = await with_issue.call("PUT", "/issue/TEST-1/assignee", json={"name": 7})
    assert _error(wrong, 400)["errorMessages"]


async def test_oversized_bodies_get_413(
    harness: HarnessFactory, idp: TestProvider, tokens: Any
) -> None:
    small = await build_api(harness, idp, tokens, server={"max_body_bytes": 2048})
    await small.project()
    big = "x" * 4096
    for method, path, body in (
        ("POST", "/issue", {"fields": {"summary": big}}),
        ("PUT", "/issue/TEST-1", {"fields": {"description": big}}),
        ("POST", "/issue/TEST-1/comment", {"body": big}),
        ("POST", "/search", {"jql": big}),
    ):
        response = await small.call(method, path, json=body)
        assert _error(response, 413)["errorMessages"] == [
            "The request body is larger than the limit of 2048 bytes."
        ]

    async def chunks() -> Any:  # no Content-Length: the limit holds while streaming
        for _ in range(4):
            yield b"x" * 1024

    streamed = await small.call("POST", "/issue/TEST-1/comment", content=chunks())
    assert streamed.status_code == 413


async def test_unknown_route_and_method(with_issue: JiraApi) -> None:
    assert _error(await with_issue.call("GET", "/nothing/here"), 404)["errorMessages"]
    assert _error(await with_issue.call("PATCH", "/issue/TEST-1"), 405)["errorMessages"]


async def test_bulk_create_problems(with_issue: JiraApi) -> None:
    assert _error(await with_issue.call("POST", "/issue/bulk", json={}), 400)["errorMessages"]
    response = await with_issue.call(
        "POST", "/issue/bulk", json={"issueUpdates": ["x", {"fields": {"summary": "s"}}]}
    )
    assert response.status_code == 400
    assert response.json() == {
        "issues": [],
        "errors": [
            {
                "status": 400,
                "elementErrors": {
                    "errorMessages": ["Each element of 'issueUpdates' must be a JSON object."],
                    "errors": {},
                },
                "failedElementNumber": 0,
            },
            {
                "status": 400,
                "elementErrors": {
                    "errorMessages": [],
                    "errors": {
                        "project": "project is required",
                        "issuetype": "issue type is required",
                    },
                },
                "failedElementNumber": 1,
            },
        ],
    }
    assert (await with_issue.call("GET", "/issue/TEST-9/editmeta")).status_code == 404
