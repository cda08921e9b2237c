"""Changes to the user directory made through the REST API (Jira's user and group
administration): groups, their members, and deleting users.

Every change to a user's groups, or to the user, is also written to the change feed
(``USER``), so running servers re-check that user's cached tokens and decisions: a user
taken out of ``jira-administrators`` stops administering at once, not when a cache expires.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.changes import USER, record
from jiraguard.store.comments import GROUP
from jiraguard.store.inserts import insert_ignoring_duplicates
from jiraguard.store.models import (
    Attachment,
    ChangeGroup,
    Comment,
    Component,
    Group,
    Issue,
    Project,
    User,
    Worklog,
    user_groups,
)


async def create_group(session: AsyncSession, name: str) -> Group:
    """A new group; the caller checked the name is free (a race ends in IntegrityError)."""
    group = Group(name=name, lower_name=name.lower())
    session.add(group)
    await session.flush()
    return group


async def _member_names(session: AsyncSession, group_id: int) -> Sequence[str]:
    query = (
        select(User.name)
        .join(user_groups, user_groups.c.user_id == User.id)
        .where(user_groups.c.group_id == group_id)
    )
    return (await session.scalars(query)).all()


async def delete_group(session: AsyncSession, group: Group, swap_to: Group | None) -> None:
    """Delete a group; its members lose it (and are re-checked). Comments restricted to it
    are restricted to ``swap_to`` instead (Jira's ``swapGroup``), or stay restricted to a
    group nobody is in, so nobody reads them, as in Jira."""
    if swap_to is not None:
        await session.execute(
            update(Comment)
            .where(
                Comment.visibility_type == GROUP,
                func.lower(Comment.visibility_value) == group.lower_name,
            )
            .values(visibility_value=swap_to.name)
        )
    group_id = group.id
    for name in await _member_names(session, group_id):
        await record(session, USER, name)
    await session.execute(delete(user_groups).where(user_groups.c.group_id == group_id))
    await session.execute(delete(Group).where(Group.id == group_id))


async def add_member(session: AsyncSession, user: User, group_id: int) -> None:
    """Put ``user`` in the group (nothing when it is already there)."""
    await session.execute(
        insert_ignoring_duplicates(session, user_groups),
        [{"user_id": user.id, "group_id": group_id}],
    )
    await record(session, USER, user.name)


async def remove_member(session: AsyncSession, user: User, group_id: int) -> bool:
    """Take ``user`` out of the group; False when it was not a member."""
    result = await session.execute(
        delete(user_groups).where(
            user_groups.c.user_id == user.id, user_groups.c.group_id == group_id
        )
    )
    await record(session, USER, user.name)
    return bool(getattr(result, "rowcount", 0))


async def references(session: AsyncSession, user_id: int) -> int:
    """How many issues, comments, worklogs, attachments, histories and projects name the
    user (as reporter, assignee, creator, author or lead): those keep a deleted user's name
    in Jira, and here they hold a reference to the row."""
    counts = (
        select(func.count()).where(
            or_(Issue.assignee_id == user_id, Issue.reporter_id == user_id,
                Issue.creator_id == user_id)
        ).select_from(Issue),
        select(func.count()).where(
            or_(Comment.author_id == user_id, Comment.update_author_id == user_id)
        ).select_from(Comment),
        select(func.count()).where(
            or_(Worklog.author_id == user_id, Worklog.update_author_id == user_id)
        ).select_from(Worklog),
        select(func.count()).where(Attachment.author_id == user_id).select_from(Attachment),
        select(func.count()).where(ChangeGroup.author_id == user_id).select_from(ChangeGroup),
        select(func.count()).where(Project.lead_id == user_id).select_from(Project),
    )  # fmt: skip
    total = 0
    for query in counts:
        total += int(await session.scalar(query) or 0)
    return total


async def delete_user(session: AsyncSession, user: User) -> None:
    """Delete a user nothing refers to (:func:`references`); components it leads lose
    their lead, its tokens and memberships go with it."""
    await session.execute(
        update(Component).where(Component.lead_id == user.id).values(lead_id=None)
    )
    await session.execute(delete(user_groups).where(user_groups.c.user_id == user.id))
    await record(session, USER, user.name)
    await session.execute(delete(User).where(User.id == user.id))
