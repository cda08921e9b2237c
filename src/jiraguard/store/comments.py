"""Queries on the comments of an issue, and who may read them.

A comment restricted to a group or a project role (Jira's comment ``visibility``) is read
only by an :class:`Audience` that holds that group or role. Every read of comments takes an
audience; the empty one sees public comments only, so forgetting to pass one fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import row_id
from jiraguard.store.models import Comment

GROUP = "group"
ROLE = "role"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads: the lower-case names of the reader's groups and project roles."""

    groups: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()

    def sees(self, comment: Comment) -> bool:
        """Whether this audience may read ``comment`` (the same rule as :meth:`condition`)."""
        kind, value = comment.visibility_type, (comment.visibility_value or "").lower()
        if kind is None:
            return True
        return value in (self.groups if kind == GROUP else self.roles if kind == ROLE else ())

    def condition(self) -> ColumnElement[bool]:
        """The SQL condition on ``comments`` true for the comments this audience may read."""
        value = func.lower(Comment.visibility_value)
        allowed: list[ColumnElement[bool]] = [Comment.visibility_type.is_(None)]
        if self.groups:
            allowed.append(and_(Comment.visibility_type == GROUP, value.in_(sorted(self.groups))))
        if self.roles:
            allowed.append(and_(Comment.visibility_type == ROLE, value.in_(sorted(self.roles))))
        return or_(*allowed)


PUBLIC = Audience()
"""Sees only comments without visibility."""


async def page_comments(
    session: AsyncSession,
    issue_id: int,
    start_at: int,
    max_results: int,
    *,
    newest_first: bool,
    audience: Audience = PUBLIC,
) -> tuple[int, Sequence[Comment]]:
    """(total, one page of the issue's comments ``audience`` may read) in creation order, or
    newest first."""
    visible = and_(Comment.issue_id == issue_id, audience.condition())
    total = await session.scalar(select(func.count()).select_from(Comment).where(visible))
    order = Comment.id.desc() if newest_first else Comment.id
    query = select(Comment).where(visible).order_by(order).offset(start_at).limit(max_results)
    return int(total or 0), (await session.scalars(query)).unique().all()


async def find_comment(
    session: AsyncSession, issue_id: int, comment_id: str, *, audience: Audience = PUBLIC
) -> Comment | None:
    """The comment ``comment_id`` if it belongs to the issue and ``audience`` may read it."""
    ident = row_id(comment_id)
    comment = await session.get(Comment, ident) if ident is not None else None
    if comment is None or comment.issue_id != issue_id or not audience.sees(comment):
        return None
    return comment


async def add_comment(
    session: AsyncSession,
    issue_id: int,
    author_id: int,
    body: str,
    *,
    visibility: tuple[str, str] | None = None,
) -> Comment:
    """Insert a comment by ``author_id`` (restricted to ``(type, value)`` when given)."""
    kind, value = visibility if visibility is not None else (None, None)
    comment = Comment(
        issue_id=issue_id,
        author_id=author_id,
        update_author_id=author_id,
        body=body,
        visibility_type=kind,
        visibility_value=value,
    )
    session.add(comment)
    await session.flush()
    return comment
