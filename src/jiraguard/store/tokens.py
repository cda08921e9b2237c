"""Personal access tokens in the database: rows keyed by the token's SHA-256, never the token.

Creating a token and its audit event happen in one transaction, and the per-user limit is
checked inside it with the owner's row locked (PostgreSQL) or the database's single writer
(SQLite: the INSERT comes first, so the count sees every committed token).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from jiraguard.store.audit import add_event
from jiraguard.store.db import Database
from jiraguard.store.models import PersonalToken, User
from jiraguard.store.users import UserRecord


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return _utc(moment) if moment is not None else None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token's metadata (aware UTC datetimes); the hash stays in the store."""

    id: int
    name: str
    username: str
    created_at: datetime
    expires_at: datetime
    last_accessed_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: PersonalToken) -> TokenRecord:
        return cls(
            id=token.id,
            name=token.name,
            username=token.user.name,
            created_at=_utc(token.created_at),
            expires_at=_utc(token.expires_at),
            last_accessed_at=_maybe_utc(token.last_accessed_at),
            revoked_at=_maybe_utc(token.revoked_at),
        )

    def active_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > moment


class TooManyTokens(Exception):
    """The owner has ``limit`` live tokens already."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"A user may hold at most {limit} personal access tokens.")
        self.limit = limit


class NoSuchUser(Exception):
    """The token's owner does not exist."""


class TokenStore:
    """Queries on ``personal_tokens``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        username: str,
        *,
        name: str,
        token_hash: str,
        created_at: datetime,
        expires_at: datetime,
        max_per_user: int,
        event: Mapping[str, Any] | None = None,
    ) -> TokenRecord:
        """Store a token for ``username``; ``event`` (its audit row) in the same transaction.

        ``event`` gets the token's id and owner here (see :func:`_filled`).
        """
        async with self.db.transaction() as session:
            owner = await session.scalar(
                select(User).where(User.lower_name == username.lower()).with_for_update()
            )
            if owner is None:
                raise NoSuchUser(username)
            token = PersonalToken(
                user_id=owner.id,
                name=name,
                token_hash=token_hash,
                created_at=created_at,
                expires_at=expires_at,
            )
            session.add(token)
            await session.flush()
            live = await session.scalar(
                select(func.count())
                .select_from(PersonalToken)
                .where(
                    PersonalToken.user_id == owner.id,
                    PersonalToken.revoked_at.is_(None),
                    PersonalToken.expires_at > created_at,
                )
            )
            if int(live or 0) > max_per_user:
                raise TooManyTokens(max_per_user)  # leaves the transaction: nothing is kept
            token.user = owner
            if event is not None:
                await add_event(session, _filled(event, token))
            return TokenRecord.of(token)

    async def by_hash(self, token_hash: str) -> tuple[TokenRecord, UserRecord] | None:
        """The token with this hash and its owner (revoked or expired ones too)."""
        async with self.db.session() as session:
            token = await session.scalar(
                select(PersonalToken)
                .options(joinedload(PersonalToken.user).selectinload(User.groups))
                .where(PersonalToken.token_hash == token_hash)
            )
            if token is None:
                return None
            return TokenRecord.of(token), UserRecord.of(token.user)

    async def get(self, token_id: int) -> TokenRecord | None:
        async with self.db.session() as session:
            token = await session.get(PersonalToken, token_id)
            return TokenRecord.of(token) if token is not None else None

    async def list(self, username: str | None = None) -> Sequence[TokenRecord]:
        """Tokens not revoked, oldest first; of ``username`` only when given."""
        query = (
            select(PersonalToken)
            .join(User, PersonalToken.user_id == User.id)
            .where(PersonalToken.revoked_at.is_(None))
            .order_by(PersonalToken.id)
        )
        if username is not None:
            query = query.where(User.lower_name == username.lower())
        async with self.db.session() as session:
            return [TokenRecord.of(t) for t in (await session.scalars(query)).unique().all()]

    async def revoke(
        self,
        token_id: int,
        *,
        at: datetime,
        owner: str | None = None,
        event: Mapping[str, Any] | None = None,
    ) -> TokenRecord | None:
        """Mark a token revoked (its row stays for the audit trail); None when there is no
        such live token (of ``owner``, when given)."""
        async with self.db.transaction() as session:
            token = await session.scalar(
                select(PersonalToken)
                .where(PersonalToken.id == token_id)
                .with_for_update(of=PersonalToken)
            )
            if token is None or token.revoked_at is not None:
                return None
            if owner is not None and token.user.lower_name != owner.lower():
                return None
            token.revoked_at = at
            if event is not None:
                await add_event(session, _filled(event, token))
            return TokenRecord.of(token)

    async def touch(self, token_id: int, at: datetime) -> None:
        """Set ``last_accessed_at`` (called at most once per resolution per token)."""
        async with self.db.transaction() as session:
            await session.execute(
                update(PersonalToken)
                .where(PersonalToken.id == token_id)
                .values(last_accessed_at=at)
            )


def _filled(event: Mapping[str, Any], token: PersonalToken) -> dict[str, Any]:
    """The audit row of a change to ``token``: its id, its owner as ``username`` (the user the
    change concerns; the actor is named in the reason), ``{id}``/``{owner}`` in the reason."""
    row = dict(event)
    row["token_id"] = str(token.id)
    row["username"] = token.user.name
    reason = str(row.get("reason", ""))
    row["reason"] = reason.replace("{id}", str(token.id)).replace("{owner}", token.user.name)
    return row
