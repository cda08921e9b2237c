"""Searches in the user directory for the REST API: users by name, groups and members."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.models import WITH_GROUPS, Group, User, user_groups


async def user_by_name(session: AsyncSession, name: str) -> User | None:
    """A user by name, case-insensitive (Jira user names are)."""
    return await session.scalar(
        select(User).options(WITH_GROUPS).where(User.lower_name == name.lower())
    )


async def user_by_key(session: AsyncSession, key: str) -> User | None:
    """A user by Jira user key (``JIRAUSER10000``)."""
    return await session.scalar(select(User).options(WITH_GROUPS).where(User.key == key))


_ID_BY_KEY = select(User.id).where(User.key == bindparam("key"))
_ID_BY_NAME = select(User.id).where(User.lower_name == bindparam("name"))


async def user_id(session: AsyncSession, key: str, name: str) -> int | None:
    """The id of the user with ``key``, else of the one named ``name`` (as ``user_by_key``
    then ``user_by_name`` find them), without loading the user or its groups."""
    found = await session.scalar(_ID_BY_KEY, {"key": key})
    if found is None:
        found = await session.scalar(_ID_BY_NAME, {"name": name.lower()})
    return found


def _activity(include_active: bool, include_inactive: bool) -> ColumnElement[bool] | None:
    if include_active and include_inactive:
        return None
    return User.active.is_(include_active)


async def search_users(
    session: AsyncSession,
    text: str,
    *,
    start_at: int,
    max_results: int,
    include_active: bool,
    include_inactive: bool,
    with_groups: bool = False,
) -> Sequence[User]:
    """Users whose name, display name or e-mail starts with ``text`` (case-insensitive).

    ``.`` (or ``%``) matches everyone, as some clients use it to list all users; so does
    an empty ``text``. ``with_groups`` loads each user's groups.
    """
    if not (include_active or include_inactive):
        return []
    query = select(User).order_by(User.lower_name).offset(start_at).limit(max_results)
    if with_groups:
        query = query.options(WITH_GROUPS)
    if text not in ("", ".", "%", "*"):
        prefix = escape_like(text.lower()) + "%"
        query = query.where(
            or_(
                User.lower_name.like(prefix, escape="\\"),
                func.lower(User.display_name).like(prefix, escape="\\"),
                func.lower(User.email).like(prefix, escape="\\"),
            )
        )
    activity = _activity(include_active, include_inactive)
    if activity is not None:
        query = query.where(activity)
    return (await session.scalars(query)).all()


async def search_groups(session: AsyncSession, text: str) -> Sequence[Group]:
    """Groups whose name contains ``text`` (case-insensitive), by name."""
    query = select(Group).order_by(Group.lower_name)
    if text:
        query = query.where(Group.lower_name.like(f"%{escape_like(text.lower())}%", escape="\\"))
    return (await session.scalars(query)).all()


async def group_by_name(session: AsyncSession, name: str) -> Group | None:
    """A group by name, case-insensitive."""
    return await session.scalar(select(Group).where(Group.lower_name == name.lower()))


async def group_members(
    session: AsyncSession,
    group_id: int,
    *,
    start_at: int,
    max_results: int,
    include_inactive: bool,
) -> tuple[int, Sequence[User]]:
    """(total, one page of the group's members by name)."""
    members = (
        select(User)
        .join(user_groups, user_groups.c.user_id == User.id)
        .where(user_groups.c.group_id == group_id)
    )
    if not include_inactive:
        members = members.where(User.active.is_(True))
    total = await session.scalar(select(func.count()).select_from(members.subquery()))
    page = members.order_by(User.lower_name).offset(start_at).limit(max_results)
    return int(total or 0), (await session.scalars(page)).all()


def escape_like(text: str) -> str:
    """``text`` matched literally in a LIKE pattern whose escape character is ``\\``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
