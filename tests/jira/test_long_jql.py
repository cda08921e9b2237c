"""Long JQL (scripts OR together thousands of keys): merged into IN lists or grouped, and
refused with Jira's 400 when still too large; through the search route, on each database."""

from __future__ import annotations

import pytest

from jiraguard.jira.jql.disjunctions import MAX_CLAUSES, MAX_VALUES
from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


async def _search(api: JiraApi, jql: str) -> tuple[int, dict[str, object]]:
    response = await api.call("POST", "/search", json={"jql": jql, "fields": ["key"]})
    return response.status_code, response.json()


@pytest.fixture
async def issues(api: JiraApi) -> JiraApi:
    await api.project()
    for number in range(1, 6):
        await api.issue(f"Issue {number}", labels=[f"l{number}"])
    return api


async def test_two_thousand_ored_keys_answer(issues: JiraApi) -> None:
    wanted = " OR ".join(f"key = TEST-{n}" for n in range(1, 2001))
    status, body = await _search(issues, wanted)
    assert status == 200, body
    assert body["total"] == 5
    by_id = " or ".join(f"id = {n}" for n in range(1, 2001))
    assert (await _search(issues, by_id))[0] == 200


async def test_merged_fields_keep_their_meaning(issues: JiraApi) -> None:
    mixed = " OR ".join(
        [*(f"labels = l{n}" for n in range(2, 1500)), "key in (TEST-1)", "labels in (l3, l4)"]
    )
    status, body = await _search(issues, f"({mixed}) AND key != TEST-5")
    assert status == 200, body
    assert sorted(i["key"] for i in body["issues"]) == ["TEST-1", "TEST-2", "TEST-3", "TEST-4"]
    # A value Jira rejects is still reported, with its own message, inside a long chain.
    status, body = await _search(issues, " OR ".join(["key = TEST-1"] * 1500 + ["key = nope"]))
    assert status == 400
    assert body["errorMessages"] == ["The issue key 'nope' for field 'key' is invalid."]


async def test_long_chains_that_cannot_merge_are_grouped(issues: JiraApi) -> None:
    words = " OR ".join(f"summary ~ w{n}" for n in range(MAX_CLAUSES - 1)) + " OR summary ~ 3"
    status, body = await _search(issues, words)
    assert status == 200, body
    assert [i["key"] for i in body["issues"]] == ["TEST-3"]
    dates = " AND ".join(f"created > -{n + 1}d" for n in range(MAX_CLAUSES))
    assert (await _search(issues, dates))[0] == 200


@pytest.mark.parametrize(
    ("jql", "what"),
    [
        (" OR ".join(f"summary ~ w{n}" for n in range(MAX_CLAUSES + 1)), "clauses"),
        (" AND ".join(f"key != TEST-{n}" for n in range(2000)), "clauses"),
        ("key in ({})".format(", ".join(f"TEST-{n}" for n in range(MAX_VALUES + 1))), "values"),
        (" OR ".join(f"key = TEST-{n}" for n in range(MAX_VALUES + 1)), "values"),
    ],
)
async def test_what_is_still_too_large_is_jiras_400(issues: JiraApi, jql: str, what: str) -> None:
    status, body = await _search(issues, jql)
    assert status == 400, body
    assert body["errors"] == {}
    messages = body["errorMessages"]
    assert isinstance(messages, list)
    (message,) = messages
    assert message.startswith("The JQL query is too large")
    assert what in message
