"""Users and groups: ``/user``, ``/user/search``, ``/groups/picker``, ``/group/member``,
``/group``."""

from __future__ import annotations

import pytest

from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


async def _names(api: JiraApi, query: str) -> list[str]:
    response = await api.call("GET", f"/user/search?{query}")
    assert response.status_code == 200, response.text
    return [u["name"] for u in response.json()]


async def test_user_lookup_by_name_and_key(api: JiraApi) -> None:
    bob = (await api.call("GET", "/user?username=bob")).json()
    by_key = (await api.call("GET", f"/user?key={bob['key']}")).json()
    assert by_key == bob
    missing = await api.call("GET", "/user?username=")  # empty means absent
    assert missing.status_code == 400


async def test_user_search(api: JiraApi) -> None:
    await api.harness.services.users.set_active("dave", False)
    assert await _names(api, "username=.&includeActive=True&includeInactive=False") == [
        "alice",
        "bob",
        "carol",
    ]
    assert await _names(api, "username=d&includeActive=TRUE&includeInactive=true") == ["dave"]
    assert await _names(api, "username=d") == []
    assert await _names(api, "username=.&includeActive=false&includeInactive=True") == ["dave"]
    assert await _names(api, "username=bob%40exa") == ["bob"]  # by e-mail
    assert await _names(api, "username=Carol C") == ["carol"]  # by display name
    assert await _names(api, "username=.&startAt=1&maxResults=1") == ["bob"]
    assert await _names(api, "username=%25&query=") == ["alice", "bob", "carol"]
    assert await _names(api, "username=_") == []  # LIKE wildcards are literal


async def test_groups_picker_and_members(api: JiraApi) -> None:
    picker = (await api.call("GET", "/groups/picker?query=&maxResults=2")).json()
    assert picker == {
        "header": "Showing 2 of 3 matching groups",
        "total": 3,
        "groups": [
            {"name": "developers", "html": "developers", "labels": []},
            {"name": "jira-administrators", "html": "jira-administrators", "labels": []},
        ],
    }
    jira = (await api.call("GET", "/groups/picker?query=JIRA")).json()
    assert [g["name"] for g in jira["groups"]] == ["jira-administrators", "jira-users"]

    page = (
        await api.call(
            "GET",
            "/group/member?groupname=jira-users&includeInactiveUsers=False&startAt=0&maxResults=2",
        )
    ).json()
    assert (page["total"], page["isLast"], page["startAt"], page["maxResults"]) == (3, False, 0, 2)
    assert [u["name"] for u in page["values"]] == ["alice", "bob"]
    assert page["nextPage"].endswith("/group/member?groupname=jira-users&startAt=2&maxResults=2")
    rest = (await api.call("GET", "/group/member?groupname=jira-users&startAt=2")).json()
    assert ([u["name"] for u in rest["values"]], rest["isLast"]) == (["carol"], True)
    assert (await api.call("GET", "/group/member?groupname=nope")).status_code == 404

    group = (await api.call("GET", "/group?groupname=jira-users&expand=users[1:5]")).json()
    assert group["name"] == "jira-users"
    assert group["self"] == "http://jira.test/rest/api/2/group?groupname=jira-users"
    users = group["users"]
    assert [u["name"] for u in users["items"]] == ["bob", "carol"]
    assert (users["size"], users["start-index"], users["end-index"]) == (3, 1, 2)
    plain = (await api.call("GET", "/group?groupname=developers")).json()
    assert (plain["users"]["size"], plain["users"]["items"]) == (1, [])


async def test_group_ranges_out_of_bounds(api: JiraApi) -> None:
    for expand, size, names in (
        ("users[2:1]", 3, []),
        ("users[5:9]", 3, []),
        (f"users[{'9' * 30}:{'9' * 31}]", 3, []),
        ("users[٣:٤]", 3, []),  # not a range: no users listed
    ):
        response = await api.call("GET", f"/group?groupname=jira-users&expand={expand}")
        assert response.status_code == 200, expand
        users = response.json()["users"]
        assert (users["size"], [u["name"] for u in users["items"]]) == (size, names), expand


async def test_myself_kept_answer_is_the_rendered_one(api: JiraApi) -> None:
    """``myself`` answers a body kept from an earlier request: byte for byte, headers
    included, what rendering it afresh gives."""
    from jiraguard.jira.routes import server
    from jiraguard.responses import JiraJSONResponse, SerialisedJSONResponse

    for user in ("alice", "bob", "carol", "dave"):
        server._myself_bodies.clear()
        first = await api.call("GET", "/myself", user=user)
        kept = await api.call("GET", "/myself", user=user)
        assert first.status_code == kept.status_code == 200
        assert kept.content == first.content
        other = {"x-request-id"}  # one per request
        assert [h for h in kept.headers.items() if h[0] not in other] == [
            h for h in first.headers.items() if h[0] not in other
        ]
        body = first.json()
        fresh = JiraJSONResponse(body)
        assert fresh.body == first.content
        assert fresh.headers["content-type"] == first.headers["content-type"]
        assert fresh.headers["content-length"] == first.headers["content-length"]
        assert SerialisedJSONResponse(fresh.body).raw_headers == fresh.raw_headers
