"""Time tracking over plain HTTP, on SQLite and PostgreSQL: the ``timetracking`` field and
the flat time fields, setting estimates on create and edit, worklogs moving the remaining
estimate (``adjustEstimate``), and JQL on durations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

HOUR = 3600
DAY = 8 * HOUR
INVALID_MODE = "The adjustEstimate value must be one of [AUTO, LEAVE, NEW, MANUAL]."
TIME_FIELDS = "timetracking,timeoriginalestimate,timeestimate,timespent,progress,workratio"


@pytest.fixture
async def project(api: JiraApi) -> JiraApi:
    await api.project()
    return api


async def _times(api: JiraApi, key: str) -> dict[str, Any]:
    response = await api.call("GET", f"/issue/{key}", params={"fields": TIME_FIELDS})
    assert response.status_code == 200, response.text
    fields: dict[str, Any] = response.json()["fields"]
    return fields


async def _remaining(api: JiraApi, key: str) -> int | None:
    remaining: int | None = (await _times(api, key))["timeestimate"]
    return remaining


async def test_shapes_without_and_with_estimates(project: JiraApi) -> None:
    bare = (await project.issue("Bare"))["key"]
    everything = (await project.call("GET", f"/issue/{bare}")).json()["fields"]
    assert everything["timetracking"] == {}
    for name in (
        "timeoriginalestimate",
        "timeestimate",
        "timespent",
        "aggregatetimeoriginalestimate",
        "aggregatetimeestimate",
        "aggregatetimespent",
    ):
        assert everything[name] is None, name
    assert everything["progress"] == {"progress": 0, "total": 0}
    assert everything["aggregateprogress"] == {"progress": 0, "total": 0}
    assert everything["workratio"] == -1
    navigable = (await project.call("GET", f"/issue/{bare}?fields=*navigable")).json()["fields"]
    assert "timetracking" not in navigable
    assert "timespent" in navigable

    key = (await project.issue("Estimated", timetracking={"originalEstimate": "1d 2h"}))["key"]
    assert await _times(project, key) == {
        "timetracking": {
            "originalEstimate": "1d 2h",
            "remainingEstimate": "1d 2h",
            "originalEstimateSeconds": DAY + 2 * HOUR,
            "remainingEstimateSeconds": DAY + 2 * HOUR,
        },
        "timeoriginalestimate": DAY + 2 * HOUR,
        "timeestimate": DAY + 2 * HOUR,
        "timespent": None,
        "progress": {"progress": 0, "total": DAY + 2 * HOUR, "percent": 0},
        "workratio": 0,
    }
    response = await project.call(
        "POST", f"/issue/{key}/worklog", json={"timeSpent": "3h 20m", "comment": "work"}
    )
    assert response.status_code == 201, response.text
    spent, left = 3 * HOUR + 20 * 60, DAY + 2 * HOUR - (3 * HOUR + 20 * 60)
    assert await _times(project, key) == {
        "timetracking": {
            "originalEstimate": "1d 2h",
            "remainingEstimate": "6h 40m",
            "timeSpent": "3h 20m",
            "originalEstimateSeconds": DAY + 2 * HOUR,
            "remainingEstimateSeconds": left,
            "timeSpentSeconds": spent,
        },
        "timeoriginalestimate": DAY + 2 * HOUR,
        "timeestimate": left,
        "timespent": spent,
        "progress": {"progress": spent, "total": DAY + 2 * HOUR, "percent": 33},
        "workratio": 33,
    }
    listed = {f["id"]: f for f in (await project.call("GET", "/field")).json()}
    assert listed["timeoriginalestimate"]["clauseNames"] == [
        "originalEstimate",
        "timeoriginalestimate",
    ]
    assert listed["timetracking"]["schema"] == {"type": "timetracking", "system": "timetracking"}
    meta = (await project.call("GET", f"/issue/{key}/editmeta")).json()["fields"]
    assert meta["timetracking"]["operations"] == ["set", "edit"]


async def test_set_on_create_and_edit(project: JiraApi) -> None:
    both = await project.issue(
        "Both", timetracking={"originalEstimate": "2d", "remainingEstimate": "1w"}
    )
    times = (await _times(project, both["key"]))["timetracking"]
    assert (times["originalEstimate"], times["remainingEstimate"]) == ("2d", "1w")
    assert times["remainingEstimateSeconds"] == 5 * DAY

    key = (await project.issue("Later"))["key"]
    response = await project.call(
        "PUT", f"/issue/{key}", json={"fields": {"timetracking": {"originalEstimate": "4h"}}}
    )
    assert response.status_code == 204, response.text
    assert (await _times(project, key))["timeestimate"] == 4 * HOUR  # none yet: follows
    response = await project.call(
        "PUT",
        f"/issue/{key}",
        json={"update": {"timetracking": [{"edit": {"remainingEstimate": "90m"}}]}},
    )
    assert response.status_code == 204, response.text
    response = await project.call(
        "PUT",
        f"/issue/{key}",
        json={"update": {"timetracking": [{"edit": {"originalEstimate": "1d"}}]}},
    )
    assert response.status_code == 204, response.text
    fields = await _times(project, key)
    assert (fields["timeoriginalestimate"], fields["timeestimate"]) == (DAY, 90 * 60)
    assert fields["timetracking"]["remainingEstimate"] == "1h 30m"

    history = (await project.call("GET", f"/issue/{key}?expand=changelog")).json()["changelog"]
    logged = [(i["field"], i["from"], i["to"]) for h in history["histories"] for i in h["items"]]
    assert logged == [
        ("timeoriginalestimate", None, "14400"),
        ("timeestimate", None, "14400"),
        ("timeestimate", "14400", "5400"),
        ("timeoriginalestimate", "14400", "28800"),
    ]
    response = await project.call(
        "PUT", f"/issue/{key}", json={"fields": {"timetracking": {"originalEstimate": ""}}}
    )
    assert response.status_code == 204
    assert (await _times(project, key))["timeoriginalestimate"] is None


async def test_refused_estimates(project: JiraApi) -> None:
    key = (await project.issue("Refusals"))["key"]
    original = {"timetracking_originalestimate": "The original estimate specified is not valid."}
    remaining = {"timetracking_remainingestimate": "The remaining estimate specified is not valid."}
    for value, errors in (
        ({"originalEstimate": "soon"}, original),
        ({"originalEstimate": "-5h"}, original),
        ({"originalEstimate": True}, original),
        ({"originalEstimate": ["1h"]}, original),
        ({"originalEstimate": "9" * 400}, original),
        ({"remainingEstimate": "3x"}, remaining),
        ({"remainingEstimateSeconds": -1}, remaining),
        ("1h", {"timetracking": 'Expected an object like {"originalEstimate": "1d"}.'}),
    ):
        for body in (
            {"fields": {"timetracking": value}},
            {"update": {"timetracking": [{"edit": value}]}},
        ):
            response = await project.call("PUT", f"/issue/{key}", json=body)
            assert response.status_code == 400, (value, response.text)
            assert response.json() == {"errorMessages": [], "errors": errors}
        create = {
            "fields": {
                "project": {"key": "TEST"},
                "issuetype": {"name": "Task"},
                "summary": "x",
                "timetracking": value,
            }
        }
        response = await project.call("POST", "/issue", json=create)
        assert response.status_code == 400, value
        assert response.json()["errors"] == errors
    response = await project.call(
        "PUT",
        f"/issue/{key}",
        json={"update": {"timetracking": [{"add": {"originalEstimate": "1h"}}]}},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "timetracking": "The operation 'add' is not supported by the field 'timetracking'."
    }
    assert (await _times(project, key))["timetracking"] == {}


async def test_worklogs_adjust_the_remaining_estimate(project: JiraApi) -> None:
    key = (await project.issue("Work", timetracking={"originalEstimate": "1d"}))["key"]

    async def log(params: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await project.call("POST", f"/issue/{key}/worklog{params}", json=body)
        assert response.status_code == 201, response.text
        made: dict[str, Any] = response.json()
        return made

    first = await log("", {"timeSpent": "2h"})  # auto by default
    assert await _remaining(project, key) == 6 * HOUR
    await log("?adjustEstimate=leave", {"timeSpent": "1h"})
    assert await _remaining(project, key) == 6 * HOUR
    await log("?adjustEstimate=new&newEstimate=3h", {"timeSpentSeconds": 1800})
    assert await _remaining(project, key) == 3 * HOUR
    manual = await log("?adjustEstimate=manual&reduceBy=30m", {"timeSpent": "5h"})
    assert await _remaining(project, key) == 2 * HOUR + 30 * 60
    await log("?adjustEstimate=AUTO", {"timeSpent": "1d"})
    assert await _remaining(project, key) == 0  # never below zero
    fields = await _times(project, key)
    assert fields["timespent"] == 2 * HOUR + HOUR + 1800 + 5 * HOUR + DAY
    assert fields["progress"] == {
        "progress": fields["timespent"],
        "total": fields["timespent"],
        "percent": 100,
    }

    path = f"/issue/{key}/worklog/{first['id']}"
    response = await project.call(
        "PUT", f"{path}?adjustEstimate=new&newEstimate=4h", json={"timeSpent": "3h"}
    )
    assert response.status_code == 200, response.text
    assert await _remaining(project, key) == 4 * HOUR
    response = await project.call("PUT", path, json={"timeSpent": "1h"})  # auto: 2h back
    assert response.status_code == 200
    assert await _remaining(project, key) == 6 * HOUR
    response = await project.call("DELETE", f"{path}?adjustEstimate=leave")
    assert response.status_code == 204
    assert await _remaining(project, key) == 6 * HOUR
    response = await project.call(
        "DELETE", f"/issue/{key}/worklog/{manual['id']}?adjustEstimate=manual&increaseBy=1h"
    )
    assert response.status_code == 204
    assert await _remaining(project, key) == 7 * HOUR
    fields = await _times(project, key)
    assert fields["timespent"] == HOUR + 1800 + DAY
    worklogs = (await project.call("GET", f"/issue/{key}/worklog")).json()["worklogs"]
    for worklog in worklogs:  # auto: each deletion gives its time back
        response = await project.call("DELETE", f"/issue/{key}/worklog/{worklog['id']}")
        assert response.status_code == 204
    fields = await _times(project, key)
    assert (fields["timespent"], fields["timeestimate"]) == (None, 7 * HOUR + HOUR + 1800 + DAY)
    history = (await project.call("GET", f"/issue/{key}?expand=changelog")).json()["changelog"]
    names = {i["field"] for h in history["histories"] for i in h["items"]}
    assert {"timespent", "timeestimate"} <= names


async def test_unestimated_issue_and_adjustment_refusals(project: JiraApi) -> None:
    key = (await project.issue("Unestimated"))["key"]
    response = await project.call("POST", f"/issue/{key}/worklog", json={"timeSpent": "1h"})
    assert response.status_code == 201
    worklog = response.json()
    assert (await _times(project, key))["timeestimate"] == 0  # as Jira: none counts as 0
    path = f"/issue/{key}/worklog"
    for method, url, errors in (
        (
            "POST",
            f"{path}?adjustEstimate=sideways",
            {"adjustEstimate": INVALID_MODE},
        ),
        (
            "POST",
            f"{path}?adjustEstimate=new",
            {"newEstimate": "You must supply a valid new estimate."},
        ),
        (
            "POST",
            f"{path}?adjustEstimate=new&newEstimate=soon",
            {"newEstimate": "Invalid new estimate entered."},
        ),
        (
            "POST",
            f"{path}?adjustEstimate=manual",
            {"reduceBy": "You must supply a valid amount of time to adjust the estimate by."},
        ),
        (
            "POST",
            f"{path}?adjustEstimate=manual&reduceBy=" + "9" * 200,
            {"adjustmentAmount": "Invalid time duration entered to adjust the estimate by."},
        ),
        (
            "PUT",
            f"{path}/{worklog['id']}?adjustEstimate=manual&reduceBy=1h",
            {"adjustEstimate": "The 'manual' adjustment is not applicable when editing a worklog."},
        ),
        (
            "DELETE",
            f"{path}/{worklog['id']}?adjustEstimate=manual",
            {"increaseBy": "You must supply a valid amount of time to adjust the estimate by."},
        ),
    ):
        body = None if method == "DELETE" else {"timeSpent": "1h"}
        response = await project.call(method, url, json=body)
        assert response.status_code == 400, (url, response.text)
        assert response.json() == {"errorMessages": [], "errors": errors}
    fields = await _times(project, key)
    assert (fields["timespent"], fields["timeestimate"]) == (HOUR, 0)


async def test_jql(project: JiraApi) -> None:
    small = (await project.issue("Small", timetracking={"originalEstimate": "1h"}))["key"]
    big = (
        await project.issue(
            "Big", timetracking={"originalEstimate": "2d", "remainingEstimate": "1d"}
        )
    )["key"]
    none = (await project.issue("None"))["key"]
    response = await project.call("POST", f"/issue/{big}/worklog", json={"timeSpent": "3h"})
    assert response.status_code == 201

    async def keys(jql: str) -> list[str]:
        response = await project.call("GET", "/search", params={"jql": jql, "fields": "summary"})
        assert response.status_code == 200, (jql, response.text)
        return [i["key"] for i in response.json()["issues"]]

    assert await keys("originalEstimate > 2h") == [big]
    assert await keys('originalEstimate <= "1d 4h" ORDER BY key') == [small]
    assert await keys("timeoriginalestimate = 60") == [small]  # a bare number is minutes
    assert await keys("originalEstimate in (1h, 2d) ORDER BY key") == [small, big]
    assert await keys("originalEstimate not in (1h)") == [big]
    assert await keys("originalEstimate != 1h") == [big]
    assert await keys("originalEstimate is EMPTY") == [none]
    assert await keys("originalEstimate in (EMPTY, 1h) ORDER BY key") == [small, none]
    assert await keys("remainingEstimate = 5h") == [big]  # 1d less 3h
    assert await keys("timeestimate < 2h") == [small]
    assert await keys("timeSpent >= 3h") == [big]
    assert await keys("timespent is not EMPTY") == [big]
    assert await keys("timeSpent is EMPTY ORDER BY key") == [small, none]
    assert await keys("project = TEST ORDER BY originalEstimate") == [small, big, none]
    assert await keys("project = TEST ORDER BY remainingEstimate DESC") == [none, big, small]
    assert await keys("project = TEST ORDER BY timeSpent, key") == [big, small, none]
    for bad, message in (
        (
            "originalEstimate > soon",
            "The value 'soon' for field 'originalEstimate' is invalid - please specify a "
            "positive duration format.",
        ),
        (
            "timespent = '-1h'",
            "The value '-1h' for field 'timespent' is invalid - please specify a positive "
            "duration format.",
        ),
        ("timeSpent ~ 1h", "The operator '~' is not supported by the 'timeSpent' field."),
        ("timeSpent > EMPTY", "The operator '>' is not supported by the 'timeSpent' field."),
        (
            "remainingEstimate = now()",
            "A value provided by the function 'now' is invalid for the field 'remainingEstimate'.",
        ),
    ):
        response = await project.call("GET", "/search", params={"jql": bad})
        assert response.status_code == 400, bad
        assert response.json() == {"errorMessages": [message], "errors": {}}
