"""``/search`` GET and POST over the JQL engine (docs/jira-compat.md §3, §4.7-4.8)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from jiraguard.store.models import User
from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


async def _seed(api: JiraApi) -> JiraApi:
    await api.project()
    for n in range(5):
        await api.issue(f"item {n}", assignee={"name": "bob" if n % 2 else "alice"})
    await api.call("POST", "/issue/TEST-2/comment", json={"body": "c"})
    return api


@pytest.fixture
async def five_db(api: JiraApi) -> JiraApi:
    """Five issues on each database (the main search flows run on both)."""
    return await _seed(api)


@pytest.fixture
async def five(api: JiraApi) -> JiraApi:
    """Five issues on SQLite (for error cases, which do not depend on the database)."""
    return await _seed(api)


async def test_get_defaults_and_order(five_db: JiraApi) -> None:
    response = await five_db.call(
        "GET", "/search?jql=project%20%3D%20TEST%20ORDER%20BY%20key%20ASC"
    )
    body = response.json()
    assert (body["startAt"], body["maxResults"], body["total"]) == (0, 50, 5)
    assert [i["key"] for i in body["issues"]] == [f"TEST-{n}" for n in range(1, 6)]
    first = body["issues"][0]
    assert first["self"] == f"http://jira.test/rest/api/2/issue/{first['id']}"
    assert "comment" not in first["fields"]  # *navigable by default
    assert first["fields"]["summary"] == "item 0"

    newest = (await five_db.call("GET", "/search?jql=project=TEST")).json()
    assert newest["issues"][0]["key"] == "TEST-5"  # created DESC by default


async def test_paging_as_clients_do(five_db: JiraApi) -> None:
    jql = "jql=project=TEST ORDER BY key ASC"
    seen: list[str] = []
    start = 0
    while True:  # page on total alone, as some clients do
        page = (await five_db.call("GET", f"/search?{jql}&startAt={start}&maxResults=2")).json()
        assert page["total"] == 5
        assert page["maxResults"] == 2
        seen += [i["key"] for i in page["issues"]]
        start += len(page["issues"])
        if page["total"] <= start:
            break
    assert seen == [f"TEST-{n}" for n in range(1, 6)]

    capped = (await five_db.call("GET", f"/search?{jql}&maxResults=100000")).json()
    assert capped["maxResults"] == 1000  # the cap actually applied is echoed
    assert len(capped["issues"]) == 5
    beyond = (await five_db.call("GET", f"/search?{jql}&startAt=10")).json()
    assert (beyond["total"], beyond["issues"]) == (5, [])
    count_only = (await five_db.call("GET", f"/search?{jql}&maxResults=0")).json()
    assert (count_only["total"], count_only["issues"]) == (5, [])


async def test_post_search(five_db: JiraApi) -> None:
    response = await five_db.call(
        "POST",
        "/search",
        json={
            "jql": "assignee = currentUser() ORDER BY key DESC",
            "startAt": 0,
            "maxResults": 2,
            "fields": ["summary", "assignee", "comment"],
            "validateQuery": True,
            "expand": None,
        },
        user="bob",
    )
    body = response.json()
    assert (body["total"], body["maxResults"]) == (2, 2)
    assert [i["key"] for i in body["issues"]] == ["TEST-4", "TEST-2"]
    assert set(body["issues"][0]["fields"]) == {"summary", "assignee", "comment"}
    assert body["issues"][1]["fields"]["comment"]["total"] == 1

    fields_all = await five_db.call(
        "POST",
        "/search",
        json={"jql": "key = TEST-2", "fields": ["*all"], "expand": ["changelog"]},
    )
    (issue,) = fields_all.json()["issues"]
    assert issue["fields"]["comment"]["comments"][0]["body"] == "c"
    assert issue["changelog"]["total"] == 0

    no_body = (await five_db.call("POST", "/search")).json()  # empty JQL: everything
    assert no_body["total"] == 5


async def test_fields_and_expand_on_get(five: JiraApi) -> None:
    jql = "jql=key=TEST-1"
    body = (await five.call("GET", f"/search?{jql}&fields=summary&fields=status")).json()
    assert set(body["issues"][0]["fields"]) == {"summary", "status"}
    body = (await five.call("GET", f"/search?{jql}&fields=*none&expand=changelog")).json()
    assert body["issues"][0]["fields"] == {}
    assert body["issues"][0]["changelog"]["histories"] == []
    body = (await five.call("GET", f"/search?{jql}&fields=&expand=&validateQuery=True")).json()
    assert "summary" in body["issues"][0]["fields"]


async def test_jql_errors_are_400(five: JiraApi) -> None:
    for method, request_body, query in (
        ("GET", None, "jql=project%20%3D%20NOPE"),
        ("GET", None, "jql=project%20%3D"),
        ("POST", {"jql": "summary ~"}, ""),
    ):
        response = await five.call(method, f"/search?{query}", json=request_body)
        assert response.status_code == 400
        body = response.json()
        assert body["errors"] == {}
        assert len(body["errorMessages"]) == 1
        assert body["errorMessages"][0]


async def test_nonexistent_project_message(five: JiraApi) -> None:
    response = await five.call("GET", "/search?jql=project%20%3D%20NOPE")
    assert response.json()["errorMessages"] == [
        "The value 'NOPE' does not exist for the field 'project'."
    ]


async def test_bad_search_parameters(five: JiraApi) -> None:
    for query in ("startAt=-1", "maxResults=-1", "startAt=x", "maxResults=1.5"):
        response = await five.call("GET", f"/search?jql=project=TEST&{query}")
        assert response.status_code == 400, query


async def test_bad_post_bodies(five: JiraApi) -> None:
    for body in ({"jql": 5}, {"startAt": -2}, {"maxResults": "many"}, {"fields": [1]}):
        response = await five.call("POST", "/search", json=body)
        assert response.status_code == 400, body
        assert response.json()["errorMessages"]
    # a comma string is accepted as a list
    response = await five.call("POST", "/search", json={"fields": "summary,status"})
    assert set(response.json()["issues"][0]["fields"]) == {"summary", "status"}


async def test_a_user_deleted_after_authentication_is_not_searched_for(five: JiraApi) -> None:
    """The acting user's id is read for ``currentUser()``: gone since its token was cached,
    the search is refused as any other route refuses it, never run for nobody."""
    jql = "/search?jql=assignee%20%3D%20currentUser()"
    assert (await five.call("GET", jql, user="dave")).status_code == 200  # token now cached
    async with five.harness.services.db.transaction() as session:
        await session.execute(delete(User).where(User.lower_name == "dave"))
    refused = await five.call("GET", jql, user="dave")
    assert refused.status_code == 401
    assert refused.json()["errorMessages"] == [
        "You are not authenticated. Authentication required."
    ]
