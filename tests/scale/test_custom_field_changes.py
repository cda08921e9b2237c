"""Custom field definitions are kept per process and read again in every process when a field
or an option is added anywhere (the change feed's ``CUSTOM_FIELDS``).

Two "processes" (full sets of services, as in ``test_changes.py``) on one database. With a
poll interval of a minute and no Redis, the feed is read only when a test says so
(``changes.catch_up``), so what a process answers before and after can be told apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from jiraguard.services import Services
from jiraguard.store.custom_fields import FieldDefinitions, custom_fields
from jiraguard.store.db import Database
from tests.conftest import bearer, jwt_provider
from tests.scale.test_changes import config_of, node, until
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio

API = "/rest/api/2"
PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
Node = tuple[Services, httpx.AsyncClient]
TEAM = {
    "name": "Team",
    "type": PLUGIN + "select",
    "searcherKey": PLUGIN + "multiselectsearcher",
    "allowedValues": ["Red", "Green"],
}


async def _names(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get(f"{API}/field", headers=headers)
    assert response.status_code == 200, response.text
    return [f["name"] for f in response.json() if f["custom"]]


async def _options(client: httpx.AsyncClient, headers: dict[str, str], ident: str) -> list[str]:
    """The select's options as a create screen offers them."""
    response = await client.get(f"{API}/issue/createmeta/PRJ/issuetypes/3", headers=headers)
    assert response.status_code == 200, response.text
    entry = next(f for f in response.json()["values"] if f["fieldId"] == ident)
    return [o["value"] for o in entry["allowedValues"]]


async def _search(client: httpx.AsyncClient, headers: dict[str, str], jql: str) -> Any:
    return await client.get(f"{API}/search", params={"jql": jql}, headers=headers)


@asynccontextmanager
async def _two(
    idp: TestProvider, url: str, poll: float
) -> AsyncIterator[tuple[Node, Node, dict[str, str]]]:
    """Two processes on ``url`` reading the feed every ``poll`` seconds, and the headers of
    alice, an administrator."""
    config = config_of(url, jwt_provider(idp), poll=poll)
    async with node(config) as a, node(config) as b:
        await a[0].users.add("alice", admin=True)
        yield a, b, bearer(idp.jwt_token("alice"))


async def test_a_field_and_an_option_added_through_one_process_reach_the_other_by_the_feed(
    idp: TestProvider, database_url: str
) -> None:
    async with _two(idp, database_url, 60) as ((a, client_a), (b, client_b), headers):
        project = {"key": "PRJ", "name": "Project"}
        assert (await client_a.post(f"{API}/project", json=project, headers=headers)).is_success
        issue = {"fields": {"project": {"key": "PRJ"}, "issuetype": {"name": "Task"}}}
        issue["fields"]["summary"] = "One"
        key = (await client_a.post(f"{API}/issue", json=issue, headers=headers)).json()["key"]
        # Both processes read the definitions (none yet) and keep them.
        assert await _names(client_a, headers) == await _names(client_b, headers) == []
        assert (
            "customfield_10000"
            not in (await client_b.get(f"{API}/issue/{key}", headers=headers)).json()["fields"]
        )

        made = await client_a.post(f"{API}/field", json=TEAM, headers=headers)
        assert made.status_code == 201, made.text
        ident = made.json()["id"]
        # The writer has applied its own change before answering.
        assert await _names(client_a, headers) == ["Team"]
        edit = {"fields": {ident: {"value": "Green"}}}
        assert (await client_a.put(f"{API}/issue/{key}", json=edit, headers=headers)).is_success
        shown = (await client_a.get(f"{API}/issue/{key}", headers=headers)).json()["fields"]
        assert shown[ident]["value"] == "Green"
        assert (await _search(client_a, headers, "Team = Green")).json()["total"] == 1

        # The other answers from what it read until it has read the feed...
        assert await _names(client_b, headers) == []
        assert (await _search(client_b, headers, "Team = Green")).status_code == 400
        assert await b.changes.catch_up() == 1
        # ...then from the definitions as they are now.
        assert await _names(client_b, headers) == ["Team"]
        shown = (await client_b.get(f"{API}/issue/{key}", headers=headers)).json()["fields"]
        assert shown[ident]["value"] == "Green"
        assert (await _search(client_b, headers, "Team = Green")).json()["total"] == 1

        number = ident.removeprefix("customfield_")
        added = await client_b.post(
            f"/rest/jiraguard/1/customfield/{number}/option",
            json={"value": "Blue"},
            headers=headers,
        )
        assert added.status_code == 201, added.text
        assert await _options(client_b, headers, ident) == ["Red", "Green", "Blue"]
        assert await _options(client_a, headers, ident) == ["Red", "Green"]
        assert await a.changes.catch_up() == 1
        assert await _options(client_a, headers, ident) == ["Red", "Green", "Blue"]


async def test_a_field_added_through_one_process_reaches_the_other_by_polling(
    idp: TestProvider, database_url: str
) -> None:
    async with _two(idp, database_url, 0.2) as ((_, client_a), (_, client_b), headers):
        assert await _names(client_b, headers) == []
        made = await client_a.post(f"{API}/field", json=TEAM, headers=headers)
        assert made.status_code == 201, made.text

        async def seen() -> bool:
            return await _names(client_b, headers) == ["Team"]

        assert await until(seen) < 1.0


async def test_a_read_under_way_when_the_definitions_are_forgotten_is_not_kept(
    sqlite_url: str,
) -> None:
    db = Database(sqlite_url)
    reads = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal reads
        reads += "FROM custom_fields" in statement

    assert db.units is not None  # a SQLite file: the read runs in a worker thread
    event.listen(db.units, "before_cursor_execute", count)
    try:
        definitions = FieldDefinitions()
        assert await definitions.current(db) == ()
        assert await definitions.current(db) == ()
        assert reads == 1  # kept
        definitions.forget()
        under_way = asyncio.ensure_future(definitions.current(db))
        await asyncio.sleep(0)  # the read has started; its answer is not back yet
        definitions.forget()
        assert await under_way == ()
        assert reads == 2
        assert await definitions.current(db) == await db.run(custom_fields)
        assert reads == 4  # read again (then once by the comparison), not the one under way
        assert await definitions.current(db) == ()
        assert reads == 4
    finally:
        await db.close()
