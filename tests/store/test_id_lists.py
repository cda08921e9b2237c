"""``in_ids``: a list of ids as one parameter (an array on PostgreSQL, ``IN`` on SQLite)
selects what ``IN`` with the ids as literals selects."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from jiraguard.store.db import Database
from jiraguard.store.id_lists import in_ids
from jiraguard.store.models import Group

pytestmark = pytest.mark.anyio

_GROUP = Group.__table__
_NAMED = select(_GROUP.c.name).where(in_ids(_GROUP.c.id, "ids")).order_by(_GROUP.c.name)


async def test_the_same_rows_as_in_for_any_list(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            rows = [{"name": f"g{n}", "lower_name": f"g{n}"} for n in range(60)]
            await session.execute(insert(Group), rows)
        async with db.session() as session:
            ids = list((await session.scalars(select(_GROUP.c.id).order_by(_GROUP.c.id))).all())
            for wanted in ([], ids[:1], ids[:50], ids[:51], ids, [*ids[:3], -5, ids[2]]):
                found = (await session.scalars(_NAMED, {"ids": wanted})).all()
                literal = select(_GROUP.c.name).where(_GROUP.c.id.in_(wanted))
                expected = (await session.scalars(literal.order_by(_GROUP.c.name))).all()
                assert found == expected
                assert len(found) == len(set(wanted) & set(ids))
    finally:
        await db.close()


def test_postgresql_gets_one_array_parameter_and_sqlite_a_list() -> None:
    assert "groups.id = ANY (%(ids)s::INTEGER[])" in str(
        _NAMED.compile(dialect=postgresql.dialect())
    )
    assert "groups.id IN (__[POSTCOMPILE_ids])" in str(_NAMED.compile(dialect=sqlite.dialect()))
