"""Queries on a project's versions (releases)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Integer, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import row_id
from jiraguard.store.models import Issue, Version, issue_affected_versions, issue_fix_versions


async def find_version(session: AsyncSession, ident: str) -> Version | None:
    """A version by its numeric id as it arrives in a URL, or None."""
    number = row_id(ident)
    return await session.get(Version, number) if number is not None else None


async def project_versions(session: AsyncSession, project_id: int) -> Sequence[Version]:
    """A project's versions in Jira's order (``sequence``, then id)."""
    query = select(Version).where(Version.project_id == project_id)
    return (await session.scalars(query.order_by(Version.sequence, Version.id))).all()


async def version_name_taken(
    session: AsyncSession, project_id: int, name: str, *, other_than: int | None = None
) -> bool:
    """Whether another version of the project has ``name`` (case-insensitive)."""
    query = select(Version.id).where(
        Version.project_id == project_id, Version.lower_name == name.lower()
    )
    if other_than is not None:
        query = query.where(Version.id != other_than)
    return (await session.scalar(query)) is not None


async def next_version_sequence(session: AsyncSession, project_id: int) -> int:
    """The place of a new version: after every other version of the project."""
    last = await session.scalar(
        select(func.max(Version.sequence)).where(Version.project_id == project_id)
    )
    return int(last or 0) + 1


async def delete_version(
    session: AsyncSession,
    version_id: int,
    *,
    move_fix_to: int | None = None,
    move_affected_to: int | None = None,
) -> None:
    """Delete a version; its issues gain ``move_fix_to`` / ``move_affected_to`` in its place
    (Jira's ``moveFixIssuesTo`` and ``moveAffectedIssuesTo``), or just lose it."""
    for table, target in (
        (issue_fix_versions, move_fix_to),
        (issue_affected_versions, move_affected_to),
    ):
        if target is not None and target != version_id:
            holders = select(table.c.issue_id).where(table.c.version_id == version_id)
            already = select(table.c.issue_id).where(table.c.version_id == target)
            moved = select(table.c.issue_id, literal(target, Integer)).where(
                table.c.issue_id.in_(holders), table.c.issue_id.not_in(already)
            )
            await session.execute(insert(table).from_select(["issue_id", "version_id"], moved))
    await session.execute(delete(Version).where(Version.id == version_id))


async def version_by_name(session: AsyncSession, project_id: int, name: str) -> Version | None:
    """The project's version named ``name`` (case-insensitive), or None."""
    query = select(Version).where(
        Version.project_id == project_id, Version.lower_name == name.strip().lower()
    )
    return await session.scalar(query)


async def place_version(session: AsyncSession, version: Version, index: int) -> None:
    """Put ``version`` at ``index`` (0-based, clamped) in its project's order; the project's
    versions are numbered 1, 2, … again."""
    others = [v for v in await project_versions(session, version.project_id) if v.id != version.id]
    others.insert(max(0, min(index, len(others))), version)
    for number, item in enumerate(others, start=1):
        item.sequence = number


async def version_issue_counts(session: AsyncSession, version_id: int) -> tuple[int, int, int]:
    """(issues fixed in it, issues it affects, unresolved issues fixed in it)."""
    fixed = select(func.count()).where(issue_fix_versions.c.version_id == version_id)
    affected = select(func.count()).where(issue_affected_versions.c.version_id == version_id)
    unresolved = (
        select(func.count())
        .select_from(issue_fix_versions.join(Issue, Issue.id == issue_fix_versions.c.issue_id))
        .where(issue_fix_versions.c.version_id == version_id, Issue.resolution_id.is_(None))
    )
    row = (
        await session.execute(
            select(
                fixed.scalar_subquery(), affected.scalar_subquery(), unresolved.scalar_subquery()
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])
