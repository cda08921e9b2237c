"""Queries on projects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import is_digits, row_id
from jiraguard.store.models import Issue, Project


async def find_project(session: AsyncSession, id_or_key: str) -> Project | None:
    """A project by numeric id or by key (keys compare case-insensitively, as in Jira)."""
    if is_digits(id_or_key):
        ident = row_id(id_or_key)
        return await session.get(Project, ident) if ident is not None else None
    return await session.scalar(select(Project).where(Project.key == id_or_key.upper()))


async def list_projects(session: AsyncSession) -> Sequence[Project]:
    """Every project, by key."""
    return (await session.scalars(select(Project).order_by(Project.key))).all()


async def name_taken(session: AsyncSession, name: str, *, other_than: int | None = None) -> bool:
    """Whether another project already has ``name`` (case-insensitive)."""
    query = select(Project.id).where(func.lower(Project.name) == name.lower())
    if other_than is not None:
        query = query.where(Project.id != other_than)
    return (await session.scalar(query)) is not None


async def next_issue_number(session: AsyncSession, project_id: int) -> int:
    """Take the project's next issue number inside the caller's transaction.

    One ``UPDATE … RETURNING`` (SQLite ≥ 3.35, PostgreSQL): the row lock (or SQLite's write
    lock) serialises concurrent creates, and the counter never goes back, so a key is never
    handed out twice, even after deletes.
    """
    number = await session.scalar(
        update(Project)
        .where(Project.id == project_id)
        .values(issue_counter=Project.issue_counter + 1)
        .returning(Project.issue_counter)
    )
    if number is None:
        raise LookupError(f"project {project_id} vanished")
    return int(number)


async def delete_project(session: AsyncSession, project_id: int) -> None:
    """Delete a project and (through ``ON DELETE CASCADE``) everything in it."""
    await session.execute(delete(Issue).where(Issue.project_id == project_id))
    await session.execute(delete(Project).where(Project.id == project_id))
