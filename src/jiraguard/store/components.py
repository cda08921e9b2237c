"""Queries on a project's components."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Integer, delete, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import row_id
from jiraguard.store.models import Component, issue_components


async def find_component(session: AsyncSession, ident: str) -> Component | None:
    """A component by its numeric id as it arrives in a URL, or None."""
    number = row_id(ident)
    return await session.get(Component, number) if number is not None else None


async def project_components(session: AsyncSession, project_id: int) -> Sequence[Component]:
    """A project's components by name, as Jira lists them."""
    query = select(Component).where(Component.project_id == project_id)
    return (await session.scalars(query.order_by(Component.lower_name, Component.id))).all()


async def component_name_taken(
    session: AsyncSession, project_id: int, name: str, *, other_than: int | None = None
) -> bool:
    """Whether another component of the project has ``name`` (case-insensitive)."""
    query = select(Component.id).where(
        Component.project_id == project_id, Component.lower_name == name.lower()
    )
    if other_than is not None:
        query = query.where(Component.id != other_than)
    return (await session.scalar(query)) is not None


async def delete_component(
    session: AsyncSession, component_id: int, *, move_to: int | None = None
) -> None:
    """Delete a component; its issues gain ``move_to`` in its place (``moveIssuesTo``)."""
    table = issue_components
    if move_to is not None and move_to != component_id:
        holders = select(table.c.issue_id).where(table.c.component_id == component_id)
        already = select(table.c.issue_id).where(table.c.component_id == move_to)
        moved = select(table.c.issue_id, literal(move_to, Integer)).where(
            table.c.issue_id.in_(holders), table.c.issue_id.not_in(already)
        )
        await session.execute(insert(table).from_select(["issue_id", "component_id"], moved))
    await session.execute(delete(Component).where(Component.id == component_id))


async def component_by_name(session: AsyncSession, project_id: int, name: str) -> Component | None:
    """The project's component named ``name`` (case-insensitive), or None."""
    query = select(Component).where(
        Component.project_id == project_id, Component.lower_name == name.strip().lower()
    )
    return await session.scalar(query)
