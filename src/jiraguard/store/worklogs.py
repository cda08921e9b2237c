"""Queries on the worklogs of an issue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.ids import row_id
from jiraguard.store.models import Worklog


async def page_worklogs(
    session: AsyncSession, issue_id: int, start_at: int, max_results: int
) -> tuple[int, Sequence[Worklog]]:
    """(total, one page of the issue's worklogs) in creation order."""
    total = await session.scalar(
        select(func.count()).select_from(Worklog).where(Worklog.issue_id == issue_id)
    )
    query = (
        select(Worklog)
        .where(Worklog.issue_id == issue_id)
        .order_by(Worklog.id)
        .offset(start_at)
        .limit(max_results)
    )
    return int(total or 0), (await session.scalars(query)).unique().all()


async def find_worklog(session: AsyncSession, issue_id: int, worklog_id: str) -> Worklog | None:
    """The worklog ``worklog_id`` if it belongs to the issue."""
    ident = row_id(worklog_id)
    worklog = await session.get(Worklog, ident) if ident is not None else None
    return worklog if worklog is not None and worklog.issue_id == issue_id else None
