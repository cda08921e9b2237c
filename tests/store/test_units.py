"""Units of work (``Database.run``): the same answers whatever runs them.

On a SQLite file and on PostgreSQL a unit runs in a worker thread on the sync driver; on an
in-memory SQLite on the event loop through the async session. The issue JSON they render is
compared byte for byte with the JSON the async session renders, and with the loading that asks
for every related table without first checking which have rows.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import bindparam, event, func, literal, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.fields import select_fields
from jiraguard.jira.rendering import render_issues
from jiraguard.responses import dump_json
from jiraguard.services import Services
from jiraguard.settings import Settings
from jiraguard.store import issues as issue_queries
from jiraguard.store.comments import PUBLIC
from jiraguard.store.db import Database, UnitWaited
from jiraguard.store.issue_people import VOTERS, WATCHERS, IssuePeople, add_person, issue_people
from jiraguard.store.models import (
    Attachment,
    ChangeGroup,
    ChangeItem,
    IssueLink,
    User,
    Worklog,
)
from tests.conftest import PG_ADMIN_URL
from tests.jql.dataset import NOW, Seeded, seed

pytestmark = pytest.mark.anyio

_KEY = select(User.key).where(User.id == bindparam("id"))


@pytest.fixture
async def seeded(database_url: str) -> AsyncIterator[tuple[Database, Seeded]]:
    database = Database(database_url)
    try:
        data = await seed(database)
        ids = data.issues
        async with database.transaction() as session:
            session.add(
                Worklog(
                    issue_id=ids["ALPHA-1"],
                    author_id=data.users["alice"],
                    comment="looked",
                    started=NOW,
                    time_spent_seconds=600,
                )
            )
            session.add(
                IssueLink(
                    link_type_id=10000,
                    inward_issue_id=ids["ALPHA-1"],
                    outward_issue_id=ids["BETA-3"],
                )
            )
            session.add(
                Attachment(
                    issue_id=ids["BETA-3"],
                    author_id=data.users["bob"],
                    filename="trace.txt",
                    mime_type="text/plain",
                    size=3,
                    content=b"abc",
                    created_at=NOW - timedelta(hours=1),
                )
            )
            group = ChangeGroup(
                issue_id=ids["ALPHA-2"], author_id=data.users["bob"], created_at=NOW
            )
            for table, issue, user in (
                (WATCHERS, "ALPHA-1", "alice"),
                (WATCHERS, "BETA-3", "bob"),
                (VOTERS, "ALPHA-1", "bob"),
            ):
                await add_person(session, table, ids[issue], data.users[user])
            group.items = [ChangeItem(field="summary", from_string="a", to_string="b")]
            session.add(group)
        yield database, data
    finally:
        await database.close()


def _render(
    ids: list[int], viewer: str | None = None
) -> Callable[[AsyncSession], Awaitable[bytes]]:
    """A unit rendering ``ids`` with every field and the changelog, serialised, as the user
    with the key ``viewer`` sees them."""
    fields = select_fields([], "*all")

    async def unit(session: AsyncSession) -> bytes:
        rendered = await render_issues(
            session, "http://jira.test", ids, fields, changelog=True, audience=PUBLIC, viewer=viewer
        )
        return dump_json(rendered)

    return unit


async def test_a_unit_renders_the_issues_as_the_async_session_does(
    seeded: tuple[Database, Seeded],
) -> None:
    database, data = seeded
    ids = list(data.issues.values())
    for page in (ids, ids[:1], [data.issues["BETA-3"]], [data.issues["ALPHA-2"]]):
        async with database.session() as session:
            before = await _render(page)(session)
        assert await database.run(_render(page)) == before


async def test_checking_for_rows_first_changes_no_byte(
    seeded: tuple[Database, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loading asks only for related tables with rows, and reads the watchers' and voters'
    tallies in the same statement; asking for all, the tallies on their own, gives the same."""
    database, data = seeded
    ids = list(data.issues.values())
    alice = await database.run(lambda session: session.scalar(_KEY, {"id": data.users["alice"]}))
    pages = [(page, viewer) for page in [ids, *([i] for i in ids)] for viewer in (None, alice)]
    checked = [await database.run(_render(*page)) for page in pages]

    async def every_part(
        session: AsyncSession, keys: list[int], wanted: set[str], viewer: str | None
    ) -> tuple[set[str], dict[int, IssuePeople]]:
        return wanted, await issue_people(session, keys, viewer)

    monkeypatch.setattr(issue_queries, "_with_rows", every_part)
    assert [await database.run(_render(*page)) for page in pages] == checked
    for shown in (b'"worklogs":[{', b"trace.txt", b'"issuelinks":[{', b'"histories":[{'):
        assert shown in checked[0]
    assert b'"watchCount":1,"isWatching":false' in checked[0]
    assert b'"watchCount":1,"isWatching":true' in checked[1]
    assert b'"votes":1,"hasVoted":false' in checked[1]


async def _thread_of(session: AsyncSession) -> int:
    assert await session.scalar(select(literal(1))) == 1
    return threading.get_ident()


async def test_units_run_in_a_worker_thread_on_the_sync_driver(
    seeded: tuple[Database, Seeded],
) -> None:
    database, _ = seeded
    assert database.units is not None
    assert database.units.dialect.name == database.dialect
    assert not database.units.dialect.is_async
    assert await database.run(_thread_of) != threading.get_ident()


async def test_an_in_memory_sqlite_runs_units_on_the_loop() -> None:
    """One in-memory database per connection: a second engine would see another, empty one."""
    database = Database("sqlite:///:memory:")
    try:
        assert database.units is None
        assert await database.run(_thread_of) == threading.get_ident()
    finally:
        await database.close()


async def test_a_write_unit_commits_and_a_failing_one_rolls_back(
    seeded: tuple[Database, Seeded],
) -> None:
    database, _ = seeded

    async def users(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)

    before = await database.run(users)

    async def add(name: str, fail: bool) -> None:
        async def unit(session: AsyncSession) -> None:
            session.add(User(name=name, lower_name=name, key=name, display_name=name))
            await session.flush()
            if fail:
                raise LookupError("after the insert")

        await database.run(unit, write=True)

    await add("dora", fail=False)
    with pytest.raises(LookupError):
        await add("emil", fail=True)
    assert await database.run(users) == before + 1


async def test_a_unit_that_waits_on_something_else_is_refused(
    seeded: tuple[Database, Seeded],
) -> None:
    database, _ = seeded

    async def sleeps(session: AsyncSession) -> None:
        await session.execute(select(func.count()).select_from(User))
        await asyncio.sleep(0)

    with pytest.raises(UnitWaited):
        await database.run(sleeps)
    assert await database.run(_thread_of)  # the connection went back to the pool, usable


async def test_a_read_unit_writes_nothing(seeded: tuple[Database, Seeded]) -> None:
    """A read ends without a commit of anything: on PostgreSQL its transaction is READ ONLY
    (a write in it is an error), on SQLite what it wrote is rolled back."""
    database, _ = seeded

    async def users(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)

    async def writes(session: AsyncSession) -> None:
        session.add(User(name="mallory", lower_name="mallory", key="mallory", display_name="M"))
        await session.flush()

    before = await database.run(users)
    if database.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await database.run(writes)
    else:
        await database.run(writes)
    assert await database.run(users) == before
    await database.run(writes, write=True)  # the connection went back writable
    assert await database.run(users) == before + 1


@pytest.mark.postgres
async def test_postgresql_keeps_the_statements_a_read_unit_runs_prepared(
    postgres_url: str,
) -> None:
    """psycopg prepares a statement run a few times on a connection, and drops all of them on
    a ROLLBACK; read units commit, so their statements stay prepared and unplanned."""
    database = Database(postgres_url, pool_size=1)
    statement = select(func.count()).select_from(User).where(User.name == bindparam("name"))

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(statement, {"name": "nobody"}) or 0)

    async def prepared(session: AsyncSession) -> list[str]:
        found = await session.execute(text("SELECT statement FROM pg_prepared_statements"))
        return [str(row[0]) for row in found]

    try:
        for _ in range(8):
            assert await database.run(count) == 0
        assert any("FROM users" in s for s in await database.run(prepared))
    finally:
        await database.close()


@pytest.mark.postgres
async def test_storage_prepared_statements_false_prepares_none(postgres_url: str) -> None:
    """For a pooler in transaction mode that does not track prepared statements."""
    settings = Settings.model_validate(
        {"storage": {"url": postgres_url, "prepared_statements": False}}
    )
    services = Services.build(settings)
    database = services.db
    statement = select(func.count()).select_from(User).where(User.name == bindparam("name"))

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(statement, {"name": "nobody"}) or 0)

    async def prepared(session: AsyncSession) -> int:
        return int(await session.scalar(text("SELECT count(*) FROM pg_prepared_statements")) or 0)

    try:
        for _ in range(8):
            assert await database.run(count) == 0
            async with database.transaction() as session:
                for _ in range(6):  # on the loop too: six times in one transaction
                    await count(session)
                assert await prepared(session) == 0
        assert await database.run(prepared) == 0
    finally:
        await services.aclose()


@pytest.mark.postgres
async def test_a_process_holds_at_most_twice_pool_size_postgresql_connections(
    postgres_url: str,
) -> None:
    """Two pools, ``pool_size`` each (docs/operations.md): with four units and four sessions
    on the loop all wanting a connection at once and ``pool_size`` 2, four are open, and every
    one of the eight gets its turn."""
    database = Database(postgres_url, pool_size=2)
    name = postgres_url.rsplit("/", 1)[1]
    nap = text("SELECT pg_sleep(0.4)")
    most = 0

    async def unit(session: AsyncSession) -> int:
        await session.execute(nap)
        return 1

    async def on_loop() -> int:
        async with database.session() as session:
            await session.execute(nap)
        return 1

    async def watch() -> None:
        nonlocal most
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            for _ in range(12):
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
                ).fetchone()
                most = max(most, row[0] if row else 0)
                await asyncio.sleep(0.1)

    try:
        done = await asyncio.gather(
            *(database.run(unit) for _ in range(4)), *(on_loop() for _ in range(4)), watch()
        )
        assert done[:8] == [1] * 8
        assert most == 4
    finally:
        await database.close()


async def test_a_page_without_versions_or_components_asks_for_them_only_in_the_probe(
    seeded: tuple[Database, Seeded],
) -> None:
    """The one "which related rows exist" statement covers the version and component links
    too: a page naming none runs no query to load them. The watchers' and voters' tallies
    come in that statement."""
    database, data = seeded
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = database.units or database.engine.sync_engine  # units: the sync driver
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await database.run(_render(list(data.issues.values())))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    loads = [s for s in statements if "versions.name" in s]
    probes = [s for s in statements if "EXISTS" in s and "issue_fix_versions" in s]
    tallies = [s for s in statements if "issue_watchers" in s]
    assert (len(probes), len(loads)) == (1, 0)
    assert tallies == probes
