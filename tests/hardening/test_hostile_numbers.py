"""Numbers and dates past every bound get Jira's 400 (or 404 for an id that names nothing),
never a 500: they are bounded before int(), datetime or the database driver see them."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from jiraguard.jira.durations import parse_duration
from jiraguard.jira.params import MAX_INT, as_int
from jiraguard.store.ids import row_id
from tests.jira.conftest import JiraApi

pytestmark = pytest.mark.anyio

THOUSANDS = "9" * 5000
"""Past the interpreter's 4,300-digit limit for int()."""
PAST_64_BITS = "9" * 25


def test_paging_and_ids_are_bounded_before_int() -> None:
    assert as_int(THOUSANDS, "startAt") == MAX_INT
    assert as_int("0" * 5000 + "7", "startAt") == 7
    assert row_id(THOUSANDS) is None
    assert row_id("0" * 5000 + "7") == 7
    assert row_id("²") is None
    assert parse_duration(THOUSANDS) is None
    assert parse_duration("0" * 5000 + "1") is None


def test_a_long_duration_is_refused_before_the_regular_expression() -> None:
    """The duration pattern backtracks quadratically on a run of digits without a unit."""
    started = time.perf_counter()
    for text in ("9" * 20000, "1" * 20000 + "x", "1h " * 5000):
        assert parse_duration(text) is None
    assert time.perf_counter() - started < 0.5
    assert parse_duration("1w 2d 3h 30m") == 5 * 8 * 3600 + 2 * 8 * 3600 + 3 * 3600 + 1800


async def test_huge_paging_parameters_are_clamped_or_400(hapi: JiraApi) -> None:
    for path in (
        f"/search?startAt={THOUSANDS}",
        f"/search?maxResults={THOUSANDS}",
        f"/issue/TEST-1/comment?startAt={THOUSANDS}&maxResults={THOUSANDS}",
        f"/issue/TEST-1/worklog?startAt={THOUSANDS}",
    ):
        assert (await hapi.call("GET", path)).status_code == 200, path[:40]
    for path in (f"/search?startAt=-{THOUSANDS}", f"/search?maxResults=-{PAST_64_BITS}"):
        response = await hapi.call("GET", path)
        assert response.status_code == 400, path[:40]
        assert response.json()["errorMessages"]


async def test_huge_ids_name_nothing(hapi: JiraApi) -> None:
    for path in (
        f"/issue/{THOUSANDS}",
        f"/issue/TEST-{THOUSANDS}",
        f"/issue/TEST-1/comment/{THOUSANDS}",
        f"/issue/TEST-1/worklog/{THOUSANDS}",
        f"/project/{THOUSANDS}",
    ):
        response = await hapi.call("GET", path)
        assert response.status_code == 404, path[:40]
    for body in ({"timeSpent": THOUSANDS}, {"timeSpentSeconds": int(PAST_64_BITS)}):
        response = await hapi.call("POST", "/issue/TEST-1/worklog", json=body)
        assert response.status_code == 400


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        (f"key = {PAST_64_BITS}", "is invalid"),
        (f"key = {THOUSANDS}", "is invalid"),
        (f"id > {PAST_64_BITS}", "is invalid"),
        (f"key = TEST-{PAST_64_BITS}", "is invalid"),
        ("key = FZ-²", "is invalid"),
        ("key in (TEST-1, FZ-٣)", "is invalid"),
        (f"project = {THOUSANDS}", "does not exist"),
        ("project = ²", "does not exist"),
        ("created > -99999999999d", "out of range"),
        (f"created > -{THOUSANDS}d", "out of range"),
        ("created < 99999999w", "out of range"),
        ("updated >= startOfYear(-99999999999)", "leaves the years"),
        ("updated >= endOfMonth(99999999)", "leaves the years"),
        ("duedate <= endOfYear(+8000)", "leaves the years"),
        ("created >= startOfDay(-3000000)", "leaves the years"),
        ('created = "9999-12-31"', "out of range"),
        ('duedate > "0001-01-01"', "out of range"),
    ],
)
async def test_out_of_range_jql_is_400(hapi: JiraApi, jql: str, message: str) -> None:
    response = await hapi.call("GET", f"/search?jql={quote(jql)}")
    assert response.status_code == 400, response.text
    assert message in response.json()["errorMessages"][0]


async def test_leading_zeros_in_a_jql_key_name_the_issue(hapi: JiraApi) -> None:
    response = await hapi.call("GET", "/search?jql=" + quote("key = TEST-" + "0" * 4500 + "1"))
    assert response.status_code == 200
    assert [i["key"] for i in response.json()["issues"]] == ["TEST-1"]


async def test_in_range_dates_still_work(hapi: JiraApi) -> None:
    for jql in (
        "created > -3650d",
        "updated >= startOfYear(-100)",
        'created > "1970-01-01"',
        "duedate <= endOfYear(+10)",
    ):
        response = await hapi.call("GET", f"/search?jql={quote(jql)}")
        assert response.status_code == 200, (jql, response.text)
