"""Queries on the application properties administrators changed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.models import ApplicationProperty


async def changed_properties(session: AsyncSession) -> dict[str, str]:
    """Every changed property: key → value."""
    rows = await session.scalars(select(ApplicationProperty))
    return {row.key: row.value for row in rows}


async def set_property(session: AsyncSession, key: str, value: str) -> None:
    """Keep ``value`` for ``key`` (inside the caller's transaction)."""
    row = await session.get(ApplicationProperty, key)
    if row is None:
        session.add(ApplicationProperty(key=key, value=value))
    else:
        row.value = value
