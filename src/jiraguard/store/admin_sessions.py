"""Admin UI sessions in the database, so any of N processes can serve any request.

The browser holds a random session id; the table holds its SHA-256 only. A session ends at
its expiry or at logout; expired rows are removed when a new session is created.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from jiraguard.store.db import Database
from jiraguard.store.models import AdminSession


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    username: str
    csrf_token: str
    method: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just created: the only object that holds the raw session id."""

    session_id: str
    record: SessionRecord


class AdminSessionStore:
    """Create, find and end admin sessions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, username: str, method: str, lifetime: timedelta) -> NewSession:
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        record = SessionRecord(username, secrets.token_urlsafe(32), method, now + lifetime)
        async with self.db.transaction() as session:
            await session.execute(delete(AdminSession).where(AdminSession.expires_at < now))
            session.add(
                AdminSession(
                    id_hash=_id_hash(session_id),
                    username=username,
                    csrf_token=record.csrf_token,
                    method=method,
                    created_at=now,
                    expires_at=record.expires_at,
                )
            )
        return NewSession(session_id, record)

    async def get(self, session_id: str) -> SessionRecord | None:
        """The live session with this id, or None (unknown or expired)."""
        if not session_id or len(session_id) > 128:
            return None
        async with self.db.session() as session:
            row = await session.scalar(
                select(AdminSession).where(AdminSession.id_hash == _id_hash(session_id))
            )
        if row is None or _utc(row.expires_at) <= datetime.now(UTC):
            return None
        return SessionRecord(row.username, row.csrf_token, row.method, _utc(row.expires_at))

    async def end(self, session_id: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(AdminSession).where(AdminSession.id_hash == _id_hash(session_id))
            )
