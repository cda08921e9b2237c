"""Queries on saved filters (private to their owner)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import row_id
from jiraguard.store.models import Filter


async def find_filter(session: AsyncSession, ident: str) -> Filter | None:
    """A filter by its numeric id as it arrives in a URL, or None."""
    number = row_id(ident)
    return await session.get(Filter, number) if number is not None else None


async def owned_filter(session: AsyncSession, owner_id: int | None, value: str) -> Filter | None:
    """The owner's filter with id ``value``, else named ``value`` (case-insensitive)."""
    if owner_id is None:
        return None
    number = row_id(value.strip())
    if number is not None:
        found = await session.get(Filter, number)
        if found is not None and found.owner_id == owner_id:
            return found
    query = select(Filter).where(
        Filter.owner_id == owner_id, Filter.lower_name == value.strip().lower()
    )
    return await session.scalar(query)


async def owner_filters(
    session: AsyncSession, owner_id: int, *, favourites: bool = False
) -> Sequence[Filter]:
    """The owner's filters (only the favourite ones with ``favourites``), by name."""
    query = select(Filter).where(Filter.owner_id == owner_id)
    if favourites:
        query = query.where(Filter.favourite.is_(True))
    return (await session.scalars(query.order_by(Filter.lower_name, Filter.id))).all()


async def filter_name_taken(
    session: AsyncSession, owner_id: int, name: str, *, other_than: int | None = None
) -> bool:
    """Whether another filter of the owner has ``name`` (case-insensitive)."""
    query = select(Filter.id).where(Filter.owner_id == owner_id, Filter.lower_name == name.lower())
    if other_than is not None:
        query = query.where(Filter.id != other_than)
    return (await session.scalar(query)) is not None
