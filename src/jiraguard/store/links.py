"""Queries on issue links."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import row_id
from jiraguard.store.models import IssueLink


async def add_link(
    session: AsyncSession, link_type_id: int, inward_issue_id: int, outward_issue_id: int
) -> IssueLink:
    """Insert a link (``link_type_id`` from ``jira.catalog``) and return it with its id."""
    link = IssueLink(
        link_type_id=link_type_id,
        inward_issue_id=inward_issue_id,
        outward_issue_id=outward_issue_id,
    )
    session.add(link)
    await session.flush()
    return link


async def find_link(session: AsyncSession, link_id: str) -> IssueLink | None:
    """A link by the id in a URL."""
    ident = row_id(link_id)
    return await session.get(IssueLink, ident) if ident is not None else None


async def delete_link(session: AsyncSession, link_id: int) -> None:
    """Delete one link."""
    await session.execute(delete(IssueLink).where(IssueLink.id == link_id))
