"""Queries on an issue's entity properties (JSON values under keys)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.inserts import insert_ignoring_duplicates
from jiraguard.store.models import IssueProperty


async def property_keys(session: AsyncSession, issue_id: int) -> Sequence[str]:
    """The keys of the issue's properties, in key order."""
    query = select(IssueProperty.key).where(IssueProperty.issue_id == issue_id)
    return (await session.scalars(query.order_by(IssueProperty.key))).all()


async def property_value(session: AsyncSession, issue_id: int, key: str) -> str | None:
    """The JSON text stored under ``key``, or None."""
    query = select(IssueProperty.value).where(
        IssueProperty.issue_id == issue_id, IssueProperty.key == key
    )
    return await session.scalar(query)


async def set_property(session: AsyncSession, issue_id: int, key: str, value: str) -> bool:
    """Store ``value`` (JSON text) under ``key``; True when the key is new."""
    insert = insert_ignoring_duplicates(session, IssueProperty.__table__)
    row = dict(issue_id=issue_id, key=key, value=value)
    if await session.scalar(insert.values(**row).returning(IssueProperty.key)) is not None:
        return True
    await session.execute(
        update(IssueProperty)
        .where(IssueProperty.issue_id == issue_id, IssueProperty.key == key)
        .values(value=value)
    )
    return False


async def delete_property(session: AsyncSession, issue_id: int, key: str) -> bool:
    """Delete the property; False when there was none."""
    deleted = await session.scalar(
        delete(IssueProperty)
        .where(IssueProperty.issue_id == issue_id, IssueProperty.key == key)
        .returning(IssueProperty.key)
    )
    return deleted is not None
