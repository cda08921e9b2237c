"""The versions and components issues name (``fixVersions``, ``versions``, ``components``),
read as plain records for rendering, as ``issue_records`` reads issues.

One ``UNION ALL`` statement reads all three for a page of issues: versions in their
project's order, components by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    Select,
    Table,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.id_lists import in_ids
from jiraguard.store.models import (
    Component,
    Version,
    issue_affected_versions,
    issue_components,
    issue_fix_versions,
)


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A version or a component as an issue shows it (components have no flags or dates)."""

    id: int
    name: str
    description: str
    archived: bool
    released: bool
    start_date: date | None
    release_date: date | None


@dataclass(frozen=True, slots=True)
class IssueItems:
    """An issue's ``fixVersions``, ``versions`` and ``components``."""

    fix_versions: tuple[ItemRecord, ...] = ()
    versions: tuple[ItemRecord, ...] = ()
    components: tuple[ItemRecord, ...] = ()


NO_ITEMS = IssueItems()
FIELDS = ("fixVersions", "versions", "components")
"""The issue fields that show these items."""

_VERSION = Version.__table__
_COMPONENT = Component.__table__


def _versions(kind: int, table: Table) -> Select[Any]:
    v = _VERSION
    return (
        select(
            literal(kind, Integer).label("kind"),
            table.c.issue_id,
            v.c.id,
            v.c.name,
            v.c.description,
            v.c.archived,
            v.c.released,
            v.c.start_date,
            v.c.release_date,
            v.c.sequence.label("place"),
        )
        .select_from(table.join(v, v.c.id == table.c.version_id))
        .where(in_ids(table.c.issue_id, "keys"))
    )


def _components() -> Select[Any]:
    c, table = _COMPONENT, issue_components
    return (
        select(
            literal(2, Integer).label("kind"),
            table.c.issue_id,
            c.c.id,
            c.c.name,
            c.c.description,
            literal(False, Boolean).label("archived"),
            literal(False, Boolean).label("released"),
            null().cast(Date).label("start_date"),
            null().cast(Date).label("release_date"),
            literal(0, Integer).label("place"),
        )
        .select_from(table.join(c, c.c.id == table.c.component_id))
        .where(in_ids(table.c.issue_id, "keys"))
    )


_ITEMS = union_all(
    _versions(0, issue_fix_versions),
    _versions(1, issue_affected_versions),
    _components(),
).order_by("kind", "issue_id", "place", "name", "id")
"""Built once: a request neither builds nor hashes it again."""


async def issue_items(session: AsyncSession, keys: Sequence[int]) -> dict[int, IssueItems]:
    """The items of the issues ``keys``; issues without any are left out."""
    if not keys:
        return {}
    found: dict[int, tuple[list[ItemRecord], list[ItemRecord], list[ItemRecord]]] = {}
    for kind, issue_id, *columns, _place in await session.execute(_ITEMS, {"keys": list(keys)}):
        lists = found.setdefault(issue_id, ([], [], []))
        lists[kind].append(ItemRecord(*columns))
    return {
        issue_id: IssueItems(tuple(fix), tuple(affected), tuple(components))
        for issue_id, (fix, affected, components) in found.items()
    }
