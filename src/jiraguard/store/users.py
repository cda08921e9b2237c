"""The user directory: Jira users and their groups, as immutable records."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.audit import add_event
from jiraguard.store.changes import USER, record
from jiraguard.store.db import Database
from jiraguard.store.directory import escape_like
from jiraguard.store.inserts import insert_ignoring_duplicates
from jiraguard.store.models import WITH_GROUPS, Group, User, user_groups

SYNC_ATTEMPTS = 4
"""Tries of one sync when a concurrent sync of the same user or group got in the way."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    key: str
    display_name: str
    email: str
    active: bool
    admin: bool
    groups: frozenset[str]
    password_hash: str | None = None

    @classmethod
    def of(cls, user: User) -> UserRecord:
        return cls(
            id=user.id,
            name=user.name,
            key=user.key,
            display_name=user.display_name,
            email=user.email,
            active=user.active,
            admin=user.admin,
            groups=frozenset(g.name for g in user.groups),
            password_hash=user.password_hash,
        )


class UserExists(Exception):
    """A user with that name exists already."""


class UserDirectory:
    """Queries on users and groups."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, name: str) -> UserRecord | None:
        """The user named ``name`` (case-insensitive), active or not."""
        async with self.db.session() as session:
            user = await _by_name(session, name)
            return UserRecord.of(user) if user else None

    async def list(self) -> Sequence[UserRecord]:
        async with self.db.session() as session:
            query = select(User).options(WITH_GROUPS).order_by(User.lower_name)
            users = (await session.scalars(query)).all()
            return [UserRecord.of(u) for u in users]

    async def find(
        self, text: str, *, start_at: int = 0, max_results: int = 50
    ) -> tuple[int, Sequence[UserRecord]]:
        """(how many match, one page of them by name): users whose name, display name or
        e-mail contains ``text`` (case-insensitive); everyone when ``text`` is empty."""
        conditions = []
        if text:
            pattern = f"%{escape_like(text.lower())}%"
            conditions.append(
                or_(
                    User.lower_name.like(pattern, escape="\\"),
                    func.lower(User.display_name).like(pattern, escape="\\"),
                    func.lower(User.email).like(pattern, escape="\\"),
                )
            )
        async with self.db.session() as session:
            total = await session.scalar(select(func.count()).select_from(User).where(*conditions))
            query = (
                select(User)
                .options(WITH_GROUPS)
                .where(*conditions)
                .order_by(User.lower_name)
                .offset(start_at)
                .limit(max_results)
            )
            users = (await session.scalars(query)).all()
            return int(total or 0), [UserRecord.of(u) for u in users]

    async def add(
        self,
        name: str,
        *,
        display_name: str | None = None,
        email: str = "",
        groups: Iterable[str] = (),
        admin: bool = False,
        password_hash: str | None = None,
        event: Mapping[str, Any] | None = None,
    ) -> UserRecord:
        """Create a user; raises :class:`UserExists` when the name is taken. ``event``: its
        audit row, written in the same transaction (``username`` set to the new user)."""
        try:
            async with self.db.transaction() as session:
                user = User(
                    name=name,
                    lower_name=name.lower(),
                    key=f"pending:{name.lower()}",
                    display_name=display_name or name,
                    email=email,
                    active=True,
                    admin=admin,
                    password_hash=password_hash,
                )
                user.groups = [await _group(session, g) for g in dict.fromkeys(groups)]
                session.add(user)
                await session.flush()
                user.key = f"JIRAUSER{10000 + user.id}"
                if event is not None:
                    await add_event(session, {**event, "username": user.name})
            return UserRecord.of(user)
        except IntegrityError as exc:
            raise UserExists(name) from exc

    async def find_by_email(self, email: str) -> Sequence[UserRecord]:
        """Every user with this e-mail address (case-insensitive); callers refuse ambiguity."""
        async with self.db.session() as session:
            users = await session.scalars(
                select(User)
                .options(WITH_GROUPS)
                .where(func.lower(User.email) == email.lower())
                .limit(2)
            )
            return [UserRecord.of(u) for u in users]

    async def sync(
        self,
        name: str,
        *,
        display_name: str | None,
        email: str | None,
        groups: Iterable[str],
        managed: Iterable[str],
    ) -> UserRecord | None:
        """Bring a user in line with a provider's claims: profile, and membership of the
        ``managed`` groups (added when in ``groups``, removed when not); other groups stay."""
        wanted = {g.lower(): g for g in groups}
        managed_lower = {g.lower() for g in managed} | set(wanted)
        for attempt in range(SYNC_ATTEMPTS):
            try:
                return await self._sync_once(name, display_name, email, wanted, managed_lower)
            except (IntegrityError, OperationalError):
                # Another process synced the same user or group at the same moment (a
                # unique key, a PostgreSQL deadlock, SQLite busy): the next try sees its
                # rows and has less to do.
                if attempt == SYNC_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _sync_once(
        self,
        name: str,
        display_name: str | None,
        email: str | None,
        wanted: dict[str, str],
        managed_lower: set[str],
    ) -> UserRecord | None:
        """One try of :meth:`sync`. The membership changes are plain statements that
        tolerate a concurrent sync of the same user (a DELETE that finds nothing, an INSERT
        that finds the row there already), not ORM collection changes, which fail with
        StaleDataError or a unique violation when another transaction got there first."""
        async with self.db.transaction() as session:
            user = await _by_name(session, name)
            if user is None:
                return None
            if display_name and user.display_name != display_name:
                user.display_name = display_name
            if email is not None and user.email != email:
                user.email = email
            present = {g.lower_name: g.id for g in user.groups}
            remove = sorted(
                gid
                for lower, gid in present.items()
                if lower in managed_lower and lower not in wanted
            )
            add = {lower: group for lower, group in wanted.items() if lower not in present}
            if not remove and not add:
                return UserRecord.of(user)
            if remove:
                await session.execute(
                    delete(user_groups).where(
                        user_groups.c.user_id == user.id, user_groups.c.group_id.in_(remove)
                    )
                )
            if add:
                ids = await _ensure_groups(session, add)
                await session.execute(
                    insert_ignoring_duplicates(session, user_groups),
                    [{"user_id": user.id, "group_id": gid} for gid in sorted(ids)],
                )
            await session.flush()
            session.expire(user, ["groups"])
            fresh = await _by_name(session, name)
            return UserRecord.of(fresh) if fresh is not None else None

    async def set_active(
        self, name: str, active: bool, *, event: Mapping[str, Any] | None = None
    ) -> bool:
        """Enable or disable a user; False when there is no such user. The change is recorded
        in the change feed (running servers re-check the user's cached decisions) and, with
        ``event``, in the audit log, in the same transaction."""
        return await self._change(name, {"active": active}, event)

    async def set_admin(
        self, name: str, admin: bool, *, event: Mapping[str, Any] | None = None
    ) -> bool:
        """Give or take the ``admin`` flag; recorded like :meth:`set_active`."""
        return await self._change(name, {"admin": admin}, event)

    async def _change(
        self, name: str, values: Mapping[str, bool], event: Mapping[str, Any] | None
    ) -> bool:
        async with self.db.transaction() as session:
            user = await _by_name(session, name)
            if user is None:
                return False
            for column, value in values.items():
                setattr(user, column, value)
            await record(session, USER, user.name)
            if event is not None:
                await add_event(session, {**event, "username": user.name})
            return True


async def _by_name(session: AsyncSession, name: str) -> User | None:
    return await session.scalar(
        select(User).options(WITH_GROUPS).where(User.lower_name == name.lower())
    )


async def _ensure_groups(session: AsyncSession, groups: dict[str, str]) -> list[int]:
    """The ids of the groups named ``groups`` (lower-case name -> name), created when
    missing, even when another transaction creates the same group at the same moment."""
    lowers = sorted(groups)
    await session.execute(
        insert_ignoring_duplicates(session, Group.__table__),
        [{"name": groups[lower], "lower_name": lower} for lower in lowers],
    )
    found = await session.scalars(select(Group.id).where(Group.lower_name.in_(lowers)))
    return list(found)


async def _group(session: AsyncSession, name: str) -> Group:
    group = await session.scalar(select(Group).where(Group.lower_name == name.lower()))
    if group is None:
        group = Group(name=name, lower_name=name.lower())
        session.add(group)
    return group


async def count_users(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)
