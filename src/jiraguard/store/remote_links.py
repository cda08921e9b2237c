"""Queries on an issue's remote links (links to objects in other systems)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.models import RemoteLink


async def issue_remote_links(
    session: AsyncSession, issue_id: int, *, global_id: str | None = None
) -> Sequence[RemoteLink]:
    """The issue's remote links in creation order; only those with ``global_id`` if given."""
    query = select(RemoteLink).where(RemoteLink.issue_id == issue_id)
    if global_id is not None:
        query = query.where(RemoteLink.global_id == global_id)
    return (await session.scalars(query.order_by(RemoteLink.id))).all()


async def find_remote_link(session: AsyncSession, issue_id: int, link_id: int) -> RemoteLink | None:
    """The issue's remote link with ``link_id`` (None when it belongs to another issue)."""
    link = await session.get(RemoteLink, link_id)
    return link if link is not None and link.issue_id == issue_id else None


async def delete_remote_links(session: AsyncSession, link_ids: Sequence[int]) -> None:
    """Delete remote links by id."""
    await session.execute(delete(RemoteLink).where(RemoteLink.id.in_(link_ids)))
