"""The user directory: Jira users and their groups, as immutable records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.changes import USER, record
from jiraguard.store.db import Database
from jiraguard.store.models import WITH_GROUPS, Group, User


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

    async def add(
        self,
        name: str,
        *,
        display_name: str | None = None,
        email: str = "",
        groups: Iterable[str] = (),
        admin: bool = False,
        password_hash: str | None = None,
    ) -> UserRecord:
        """Create a user; raises :class:`UserExists` when the name is taken."""
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
        async with self.db.transaction() as session:
            user = await _by_name(session, name)
            if user is None:
                return None
            if display_name and user.display_name != display_name:
                user.display_name = display_name
            if email is not None and user.email != email:
                user.email = email
            kept = [g for g in user.groups if g.lower_name not in managed_lower]
            present = {g.lower_name for g in user.groups}
            added_groups = [g for g in user.groups if g.lower_name in wanted]
            for lower, group_name in wanted.items():
                if lower not in present:
                    added_groups.append(await _group(session, group_name))
            user.groups = kept + added_groups
            await session.flush()
            return UserRecord.of(user)

    async def set_active(self, name: str, active: bool) -> bool:
        """Enable or disable a user; False when there is no such user."""
        async with self.db.transaction() as session:
            user = await _by_name(session, name)
            if user is None:
                return False
            user.active = active
            await record(session, USER, user.name)
            return True


async def _by_name(session: AsyncSession, name: str) -> User | None:
    return await session.scalar(
        select(User).options(WITH_GROUPS).where(User.lower_name == name.lower())
    )


async def _group(session: AsyncSession, name: str) -> Group:
    group = await session.scalar(select(Group).where(Group.lower_name == name.lower()))
    if group is None:
        group = Group(name=name, lower_name=name.lower())
        session.add(group)
    return group


async def count_users(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)
