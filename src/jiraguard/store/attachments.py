"""Queries on attachments. Their content is loaded only for a download."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from jiraguard.store.ids import row_id
from jiraguard.store.models import Attachment, User


async def attachments_of(
    session: AsyncSession, issue_ids: Sequence[int], *, attachment_ids: Sequence[int] = ()
) -> list[tuple[Attachment, User | None]]:
    """Attachments of ``issue_ids`` (or with ``attachment_ids``) with their authors.

    The content column is not loaded: an issue's JSON shows metadata only.
    """
    query = (
        select(Attachment, User)
        .outerjoin(User, User.id == Attachment.author_id)
        .options(defer(Attachment.content, raiseload=True))
        .order_by(Attachment.id)
    )
    if attachment_ids:
        query = query.where(Attachment.id.in_(attachment_ids))
    else:
        query = query.where(Attachment.issue_id.in_(issue_ids))
    rows = (await session.execute(query)).unique().all()
    return [(attachment, author) for attachment, author in rows]


async def attachment_meta(session: AsyncSession, attachment_id: str) -> Attachment | None:
    """An attachment without its content (which may be large)."""
    ident = row_id(attachment_id)
    if ident is None:
        return None
    query = (
        select(Attachment)
        .options(defer(Attachment.content, raiseload=True))
        .where(Attachment.id == ident)
    )
    return await session.scalar(query)


async def attachment_content(session: AsyncSession, attachment_id: int) -> bytes | None:
    """The bytes of one attachment (only for a download)."""
    return await session.scalar(select(Attachment.content).where(Attachment.id == attachment_id))
