"""Queries on the comments of an issue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import row_id
from jiraguard.store.models import Comment


async def page_comments(
    session: AsyncSession, issue_id: int, start_at: int, max_results: int, *, newest_first: bool
) -> tuple[int, Sequence[Comment]]:
    """(total, one page of the issue's comments) in creation order, or newest first."""
    total = await session.scalar(
        select(func.count()).select_from(Comment).where(Comment.issue_id == issue_id)
    )
    order = Comment.id.desc() if newest_first else Comment.id
    query = (
        select(Comment)
        .where(Comment.issue_id == issue_id)
        .order_by(order)
        .offset(start_at)
        .limit(max_results)
    )
    return int(total or 0), (await session.scalars(query)).unique().all()


async def find_comment(session: AsyncSession, issue_id: int, comment_id: str) -> Comment | None:
    """The comment ``comment_id`` if it belongs to the issue."""
    ident = row_id(comment_id)
    comment = await session.get(Comment, ident) if ident is not None else None
    return comment if comment is not None and comment.issue_id == issue_id else None


async def add_comment(session: AsyncSession, issue_id: int, author_id: int, body: str) -> Comment:
    """Insert a comment by ``author_id`` and return it with its id."""
    comment = Comment(issue_id=issue_id, author_id=author_id, update_author_id=author_id, body=body)
    session.add(comment)
    await session.flush()
    return comment
