"""An issue's watchers and voters: two lists of users per issue, kept alike.

Each list is an issue ↔ user table (``models.issue_watchers``, ``models.issue_voters``);
adding a user already listed, or removing one who is not, changes nothing (concurrent
requests adding the same user both succeed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    Table,
    bindparam,
    case,
    delete,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.id_lists import in_ids
from jiraguard.store.inserts import insert_ignoring_duplicates
from jiraguard.store.models import User, issue_voters, issue_watchers

WATCHERS = issue_watchers
VOTERS = issue_voters


@dataclass(frozen=True, slots=True)
class Tally:
    """How many users a list holds for one issue, and whether the viewer is one of them."""

    count: int = 0
    mine: bool = False


@dataclass(frozen=True, slots=True)
class IssuePeople:
    """An issue's ``watches`` and ``votes`` as the viewer sees them."""

    watches: Tally = Tally()
    votes: Tally = Tally()


NOBODY = IssuePeople()
FIELDS = ("watches", "votes")
"""The issue fields that show these lists."""


async def add_person(session: AsyncSession, table: Table, issue_id: int, user_id: int) -> None:
    """Put the user on the issue's list (nothing happens when already there)."""
    statement = insert_ignoring_duplicates(session, table)
    await session.execute(statement.values(issue_id=issue_id, user_id=user_id))


async def remove_person(session: AsyncSession, table: Table, issue_id: int, user_id: int) -> None:
    """Take the user off the issue's list (nothing happens when not there)."""
    await session.execute(
        delete(table).where(table.c.issue_id == issue_id, table.c.user_id == user_id)
    )


async def people(session: AsyncSession, table: Table, issue_id: int) -> Sequence[User]:
    """The users on the issue's list, by user name."""
    query = (
        select(User)
        .join(table, table.c.user_id == User.id)
        .where(table.c.issue_id == issue_id)
        .order_by(User.lower_name)
    )
    return (await session.scalars(query)).all()


def _rows(kind: int, table: Table) -> Select[Any]:
    return select(literal(kind, Integer).label("kind"), table.c.issue_id, table.c.user_id)


_VIEWER = select(User.id).where(User.key == bindparam("viewer", type_=String)).scalar_subquery()
"""The viewer, found by user key in the same statement (no lookup of its own)."""
_BOTH = union_all(_rows(0, WATCHERS), _rows(1, VOTERS)).subquery()
TALLIES = (
    select(
        _BOTH.c.kind,
        _BOTH.c.issue_id,
        func.count(),
        func.max(case((_BOTH.c.user_id == _VIEWER, 1), else_=0)),
    )
    .where(in_ids(_BOTH.c.issue_id, "keys"))
    .group_by(_BOTH.c.kind, _BOTH.c.issue_id)
)
"""Both lists' counts per issue, and whether the viewer is on them: one statement, built
once, one list of ids (both databases push the condition into the two index scans). Rows
``(kind, issue_id, count, mine)``, kind 0 or 1; parameters ``keys`` and ``viewer``; a
statement may read it with something else (``UNION ALL``)."""


def people_of(rows: Iterable[Sequence[Any]]) -> dict[int, IssuePeople]:
    """The ``watches`` and ``votes`` from rows of :data:`TALLIES`."""
    found: dict[int, list[Tally]] = {}
    for kind, issue_id, count, mine in rows:
        tallies = found.setdefault(issue_id, [Tally(), Tally()])
        tallies[kind] = Tally(int(count), bool(mine))
    return {issue_id: IssuePeople(*tallies) for issue_id, tallies in found.items()}


async def issue_people(
    session: AsyncSession, keys: Sequence[int], viewer: str | None
) -> dict[int, IssuePeople]:
    """The ``watches`` and ``votes`` of the issues ``keys`` as ``viewer`` (a user key) sees
    them; issues on neither list are left out."""
    if not keys:
        return {}
    return people_of(await session.execute(TALLIES, {"keys": list(keys), "viewer": viewer}))
